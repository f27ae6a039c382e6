/* oauth_common.h - what the sandbox's OAuth 2.0 handlers share
 * (oauth_common.c): the OAuth tables, the HTML page frame and error pages,
 * redirects back to the app, RFC 6749 JSON errors, reading a request's
 * parameters (query, form or JSON body), the signed-in admin and the
 * companies it may grant, and revoking a grant.  Private to src/sandbox:
 * h_oauth_authorize.c, h_oauth_token.c and h_oauth_revoke.c use it. */
#ifndef GUSTO_SANDBOX_OAUTH_COMMON_H
#define GUSTO_SANDBOX_OAUTH_COMMON_H

#include "sandbox/sandbox.h"
#include "sandbox/html.h"

#include <stdbool.h>

/* The sandbox's one signed-in admin, Jordan Blake: the primary payroll
 * admin of both seeded companies and the resource_owner of OAuth tokens. */
extern const char OAUTH_ADMIN_UUID[];
extern const char OAUTH_ADMIN_NAME[];

/* ---- responses (each returns the handler's result) -------------------- */

/* Reply with `text` (consumed; NULL: a 500) of content type `type`. */
int oauth_reply_raw(struct request *r, int status, char *text, const char *type);
/* The start of an HTML page titled `title`, the sandbox's style included. */
void oauth_page_head(struct hbuf *b, const char *title);
/* The headers every OAuth HTML page carries: no cache, no framing, a CSP. */
void oauth_html_headers(struct request *r);
/* An HTML error page; never a redirect (the redirect_uri is not trusted). */
int oauth_html_error(struct request *r, int status, const char *title, const char *msg);
/* 302 to uri with the given parameters added (pairs with a NULL skipped). */
int oauth_redirect_to(struct request *r, const char *uri, const char *k1, const char *v1,
                      const char *k2, const char *v2, const char *k3, const char *v3);
/* 302 to uri with error, error_description and state (RFC 6749 4.1.2.1). */
int oauth_redirect_error(struct request *r, const char *uri, const char *error,
                         const char *desc, const char *state);
/* RFC 6749 section 5.2 JSON error; the description never holds a secret. */
int oauth_error(struct request *r, int status, const char *error, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Roll the transaction back and answer 500. */
int oauth_db_failed(struct request *r);

/* ---- request parameters ----------------------------------------------- */

/* The query parameter, NULL when absent; *dup set when it was sent twice. */
const char *oauth_query1(struct request *r, const char *name, bool *dup);
/* Decode n bytes of x-www-form-urlencoded text: malloc'd (free()), NULL
 * when malformed or memory runs out. */
char *oauth_form_decode(const char *s, size_t n);
/* The request body as a JSON object (form or, unless form_only, JSON);
 * NULL with *why when it is neither or a parameter repeats.  New
 * reference. */
json_t *oauth_body_params(struct request *r, bool form_only, const char **why);
/* A string parameter of p; NULL when absent.  *bad when present but not a
 * non-empty string.  Borrowed from p. */
const char *oauth_param(json_t *p, const char *name, bool *bad);

/* ---- the admin's companies, grants ------------------------------------ */

struct oauth_company {
    char uuid[SB_UUID_LEN + 1];
    char name[128];
};
/* The companies the sandbox admin may grant, demo first: how many (0-2),
 * or -1 on a database error. */
int oauth_admin_companies(sqlite3 *db, struct oauth_company out[2]);
/* Revoke a grant's access and refresh tokens, inside the caller's
 * transaction.  0, or -1 on a database error. */
int oauth_revoke_grant(sqlite3 *db, const char *grant);

#endif
