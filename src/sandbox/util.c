/* util.c - ids, versions, dates and small string checks for the sandbox. */
#include "sandbox/sandbox.h"
#include "shared/uuidtext.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void uuid_format(const unsigned char b[16], char out[SB_UUID_LEN + 1])
{
    snprintf(out, SB_UUID_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
             b[11], b[12], b[13], b[14], b[15]);
}

void uuid_random(char out[SB_UUID_LEN + 1])
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1) {
        /* OpenSSL's CSPRNG does not fail once seeded; fall back anyway. */
        uint64_t s = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)out;
        for (int i = 0; i < 16; i += 8) {
            uint64_t v = splitmix64(&s);
            memcpy(b + i, &v, 8);
        }
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    uuid_format(b, out);
}

void uuid_request_id(char out[SB_UUID_LEN + 1])
{
    /* RAND_bytes for every response cost ~4% of a GET; a request id only
     * has to be unique, so each thread seeds a splitmix64 stream once. */
    static _Thread_local uint64_t state;
    static _Thread_local bool seeded;
    if (!seeded) {
        if (RAND_bytes((unsigned char *)&state, sizeof state) != 1)
            state = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&state;
        seeded = true;
    }
    uuid_seeded(&state, out);
}

uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void uuid_seeded(uint64_t *state, char out[SB_UUID_LEN + 1])
{
    unsigned char b[16];
    uint64_t a = splitmix64(state), c = splitmix64(state);
    memcpy(b, &a, 8);
    memcpy(b + 8, &c, 8);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    uuid_format(b, out);
}

void version_of(const char *uuid, long rev, char out[33])
{
    char in[80];
    int n = snprintf(in, sizeof in, "%s:%ld", uuid, rev);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(in, (size_t)n, md, &mdlen, EVP_md5(), NULL);
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

void today_ymd(char out[11])
{
    if (sb_cfg.today[0]) { /* --today pins the calendar */
        memcpy(out, sb_cfg.today, 11);
        return;
    }
    /* localtime_r takes glibc's process-wide time-zone lock; every request
     * asks, so each thread keeps the answer for the current second. */
    static _Thread_local time_t last;
    static _Thread_local char day[11];
    time_t t = time(NULL);
    if (t != last || !day[0]) {
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(day, sizeof day, "%Y-%m-%d", &tm);
        last = t;
    }
    memcpy(out, day, sizeof day);
}

void now_iso8601(char out[40])
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    char tz[8];
    strftime(tz, sizeof tz, "%z", &tm); /* +0000 -> +00:00 */
    char base[20];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    if (sb_cfg.today[0]) /* --today: that date, at the clock's time of day */
        memcpy(base, sb_cfg.today, 10);
    snprintf(out, 40, "%.19s.000%c%c%c:%c%c", base, tz[0], tz[1], tz[2], tz[3], tz[4]);
}

bool valid_date(const char *s)
{
    return ymd_valid(s);
}

bool valid_uuid(const char *s)
{
    return uuid_text_ok(s);
}

bool all_digits(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

void sha256_hex(const char *s, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

