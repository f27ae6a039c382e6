/* mcp_jwt.h - an MCP caller's identity from an OIDC ID token (mcp_jwt.c):
 * the signature against the identity provider's JWKS, then iss, aud, exp
 * and the email claim. */
#ifndef GUSTO_SERVE_MCP_JWT_H
#define GUSTO_SERVE_MCP_JWT_H

#include <stdbool.h>
#include <stddef.h>

/* serve's "oidc" configuration (docs/mcp.md). */
struct mcp_jwt_config {
    const char *issuer;          /* the token's iss, exactly */
    const char *audience;        /* one of the token's aud */
    const char *jwks;            /* a file path, or an http(s):// URL (kept 5 minutes,
                                    fetched again for an unknown kid) */
};

/* Does the bearer text look like a JWT (eyJ..., three dot-separated parts)? */
bool mcp_jwt_looks_like(const char *token);

/* Verify token: 0 with the email claim (lower case) in email, or -1 with
 * a short reason in why ("expired", "wrong audience", "bad signature", ...;
 * for the audit log only: callers get a bare 401).  Refuses
 * "none" and symmetric algorithms, a key whose own alg differs, and exp,
 * nbf or iat more than 60 s off.  Thread-safe. */
int mcp_jwt_verify(const struct mcp_jwt_config *c, const char *token, char *email,
                   size_t cap, char *why, size_t whycap);

#endif
