/* oauth_apps.h - the OAuth client registry (oauth_apps.c), shared by the
 * OAuth handlers (h_oauth_*.c, oauth_common.c) only. */
#ifndef SANDBOX_OAUTH_APPS_H
#define SANDBOX_OAUTH_APPS_H

#include "sandbox/sandbox.h"

#define MAX_APPS 1024            /* --app/--apps and registered clients together */
#define MAX_URIS 16
#define MAX_URI_LEN 1000

struct app {
    char *client_id;
    char *name;
    char secret_hash[65];
    char *uris[MAX_URIS];
    int nuris;
    char scopes[512];            /* space separated */
    enum oauth_auth auth;        /* how it authenticates at the token endpoint */
    bool pkce;                   /* its authorize requests must carry a code_challenge */
};

/* The client with this id, or NULL.  The entry never changes or moves
 * while the sandbox runs. */
const struct app *oauth_find_app(const char *client_id);
/* True when uri is one of a's redirect URIs: exactly, or a loopback URI
 * registered without a port with any port (RFC 8252 section 7.3). */
bool oauth_app_has_uri(const struct app *a, const char *uri);
/* True when secret is a's (constant-time compare of the SHA-256s). */
bool oauth_secret_ok(const struct app *a, const char *secret);
/* Normalise a space-separated scope list into out, each scope known and,
 * when allowed is not NULL, in allowed.  0, or -1 with the reason in err. */
int oauth_norm_scopes(const char *in, const char *allowed, char out[512], char *err,
                      size_t errlen);

#endif
