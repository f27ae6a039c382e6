/* pkce.c - PKCE's S256 code challenge and the verifier's syntax (RFC 7636),
 * shared by libgusto and gusto-sandbox. */
#include "shared/pkce.h"

#include <openssl/evp.h>
#include <string.h>

void pkce_b64url32(const unsigned char in[32], char out[44])
{
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < 32; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < 32 ? (unsigned)in[i + 1] << 8 : 0u) |
                     (i + 2 < 32 ? (unsigned)in[i + 2] : 0u);
        for (int k = 3; k >= 0 && o < 43; k--)
            out[o++] = A[(v >> (6 * k)) & 63];
    }
    out[43] = 0;
}

int pkce_s256(const char *verifier, size_t len, char out[44])
{
    unsigned char d[32];
    unsigned int dl = 0;
    out[0] = 0;
    if (EVP_Digest(verifier, len, d, &dl, EVP_sha256(), NULL) != 1 || dl != 32)
        return -1;
    pkce_b64url32(d, out);
    return 0;
}

int pkce_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 43 || n > 128)
        return 0;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") == n;
}
