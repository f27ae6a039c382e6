/* pkce.h - PKCE's S256 transform (RFC 7636 section 4.2): the code challenge
 * of a verifier, for the library (which sends it) and the sandbox (which
 * checks it), so both compute it one way. */
#ifndef GUSTO_PKCE_H
#define GUSTO_PKCE_H

#include <stddef.h>

/* 32 bytes as 43 base64url characters, no padding (RFC 4648 section 5);
 * out gets a NUL at [43]. */
void pkce_b64url32(const unsigned char in[32], char out[44]);

/* BASE64URL(SHA-256(verifier[0..len))) into out.  0, or -1 when OpenSSL
 * fails (out is then ""). */
int pkce_s256(const char *verifier, size_t len, char out[44]);

/* 1 when s is a valid verifier or challenge: 43 to 128 characters of
 * [A-Za-z0-9-._~] (RFC 7636 sections 4.1 and 4.2). */
int pkce_valid(const char *s);

#endif
