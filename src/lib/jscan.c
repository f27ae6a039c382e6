/* jscan.c - a validating scanner for a JSON array: finds the byte span of
 * each top-level element without building a tree.
 *
 * It accepts exactly what jansson's json_loadb(buf, len, 0) accepts (UTF-8
 * checks, \u escapes and surrogates, no \u0000, integer and real overflow,
 * nesting depth), so a list page is still refused as a whole when jansson
 * would refuse it; fuzz/fuzz_jscan.c checks the two against each other.
 * For each element it also tells whether its bytes are already what
 * json_dumps(JSON_COMPACT | JSON_PRESERVE_ORDER) prints for it: no
 * whitespace, integers only, and no escape that jansson writes differently.
 * Duplicate keys are the one difference it does not see (jansson keeps the
 * last value, in the first key's place); both texts mean the same object to
 * a JSON parser that keeps the last. */
#include "lib/jscan.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 2048 /* jansson's JSON_PARSER_MAX_DEPTH; every value counts */

struct scan {
    const unsigned char *p, *end;
    int depth;
    bool canonical;
    char *err;
    size_t errlen;
};

static int fail(struct scan *s, const char *what)
{
    if (s->err && s->errlen)
        snprintf(s->err, s->errlen, "%s", what);
    return -1;
}

static bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Skip whitespace; inside an element any of it makes the text
 * non-canonical. */
static void ws(struct scan *s, bool inside)
{
    const unsigned char *p = s->p;
    while (p < s->end && is_ws(*p))
        p++;
    if (inside && p != s->p)
        s->canonical = false;
    s->p = p;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Four hex digits at p (bounds checked by the caller); -1 when not. */
static long hex4(const unsigned char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* One UTF-8 sequence starting at s->p (a byte >= 0x80), as jansson's
 * utf8_check_first/utf8_check_full judge it. */
static int utf8_seq(struct scan *s)
{
    const unsigned char *p = s->p;
    unsigned char c = *p;
    int n;
    uint32_t v;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        v = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        v = c & 0x07;
    } else {
        return fail(s, "invalid UTF-8");
    }
    if (s->end - p < n)
        return fail(s, "invalid UTF-8");
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return fail(s, "invalid UTF-8");
        v = (v << 6) | (p[i] & 0x3F);
    }
    if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) || v > 0x10FFFF ||
        (v >= 0xD800 && v <= 0xDFFF))
        return fail(s, "invalid UTF-8");
    s->p = p + n;
    return 0;
}

/* A string, s->p at the opening quote. */
static int string(struct scan *s)
{
    const unsigned char *p = s->p + 1;
    for (;;) {
        /* The plain run: the common case. */
        while (p < s->end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            p++;
        if (p >= s->end)
            return fail(s, "unterminated string");
        unsigned char c = *p;
        if (c == '"') {
            s->p = p + 1;
            return 0;
        }
        if (c < 0x20)
            return fail(s, "control character in a string");
        if (c >= 0x80) {
            s->p = p;
            if (utf8_seq(s) != 0)
                return -1;
            p = s->p;
            continue;
        }
        /* a backslash */
        if (p + 1 >= s->end)
            return fail(s, "unterminated string");
        unsigned char e = p[1];
        if (e == '"' || e == '\\' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
            p += 2;
            continue;
        }
        if (e == '/') {
            s->canonical = false; /* jansson writes a plain '/' */
            p += 2;
            continue;
        }
        if (e != 'u')
            return fail(s, "invalid escape");
        s->canonical = false;
        if (s->end - p < 6)
            return fail(s, "invalid escape");
        long v = hex4(p + 2);
        if (v < 0)
            return fail(s, "invalid escape");
        p += 6;
        if (v >= 0xD800 && v <= 0xDBFF) {
            if (s->end - p < 6 || p[0] != '\\' || p[1] != 'u')
                return fail(s, "invalid Unicode escape");
            long v2 = hex4(p + 2);
            if (v2 < 0)
                return fail(s, "invalid escape");
            if (v2 < 0xDC00 || v2 > 0xDFFF)
                return fail(s, "invalid Unicode escape");
            p += 6;
        } else if (v >= 0xDC00 && v <= 0xDFFF) {
            return fail(s, "invalid Unicode escape");
        } else if (v == 0) {
            return fail(s, "\\u0000 is not allowed");
        }
    }
}

/* jansson quirk: the byte after a number or a literal is read and put
 * back, and a put-back NUL byte is lost, so one NUL right there is
 * skipped as if it were not in the input. */
static void after_token(struct scan *s)
{
    if (s->p < s->end && *s->p == 0) {
        s->p++;
        s->canonical = false;
    }
}

static bool digit(const unsigned char *p, const unsigned char *end)
{
    return p < end && *p >= '0' && *p <= '9';
}

static int number(struct scan *s)
{
    const unsigned char *start = s->p, *p = s->p;
    bool neg = false;
    if (*p == '-') {
        neg = true;
        p++;
    }
    if (!digit(p, s->end))
        return fail(s, "invalid number");
    if (*p == '0') {
        p++;
        if (digit(p, s->end))
            return fail(s, "invalid number");
    } else {
        while (digit(p, s->end))
            p++;
    }
    bool real = false;
    if (p < s->end && *p == '.') {
        p++;
        if (!digit(p, s->end))
            return fail(s, "invalid number");
        while (digit(p, s->end))
            p++;
        real = true;
    }
    if (p < s->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < s->end && (*p == '+' || *p == '-'))
            p++;
        if (!digit(p, s->end))
            return fail(s, "invalid number");
        while (digit(p, s->end))
            p++;
        real = true;
    }
    size_t n = (size_t)(p - start);
    char tmp[64], *text = tmp;
    if (n >= sizeof tmp) {
        text = malloc(n + 1);
        if (!text)
            return fail(s, "out of memory");
    }
    memcpy(text, start, n);
    text[n] = 0;
    errno = 0;
    int rc = 0;
    if (real) {
        s->canonical = false; /* jansson prints reals with %.17g */
        double d = strtod(text, NULL);
        if (errno == ERANGE && (d > 1.0 || d < -1.0))
            rc = fail(s, "real number overflow");
    } else {
        long long v = strtoll(text, NULL, 10);
        if (errno == ERANGE)
            rc = fail(s, "too big integer");
        else if (neg && v == 0)
            s->canonical = false; /* "-0" prints as 0 */
    }
    if (text != tmp)
        free(text);
    s->p = p;
    if (rc == 0)
        after_token(s);
    return rc;
}

static int literal(struct scan *s, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return fail(s, "invalid token");
    s->p += n;
    /* jansson reads a whole identifier: "truex" is one invalid token. */
    if (s->p < s->end && ((*s->p >= 'a' && *s->p <= 'z') || (*s->p >= 'A' && *s->p <= 'Z')))
        return fail(s, "invalid token");
    after_token(s);
    return 0;
}

static int value(struct scan *s);

static int array(struct scan *s)
{
    s->p++; /* '[' */
    ws(s, true);
    if (s->p < s->end && *s->p == ']') {
        s->p++;
        return 0;
    }
    for (;;) {
        if (value(s) != 0)
            return -1;
        ws(s, true);
        if (s->p >= s->end)
            return fail(s, "unterminated array");
        if (*s->p == ']') {
            s->p++;
            return 0;
        }
        if (*s->p != ',')
            return fail(s, "',' or ']' expected");
        s->p++;
        ws(s, true);
    }
}

static int object(struct scan *s)
{
    s->p++; /* '{' */
    ws(s, true);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        return 0;
    }
    for (;;) {
        if (s->p >= s->end || *s->p != '"')
            return fail(s, "string or '}' expected");
        if (string(s) != 0)
            return -1;
        ws(s, true);
        if (s->p >= s->end || *s->p != ':')
            return fail(s, "':' expected");
        s->p++;
        ws(s, true);
        if (value(s) != 0)
            return -1;
        ws(s, true);
        if (s->p >= s->end)
            return fail(s, "unterminated object");
        if (*s->p == '}') {
            s->p++;
            return 0;
        }
        if (*s->p != ',')
            return fail(s, "',' or '}' expected");
        s->p++;
        ws(s, true);
    }
}

static int value(struct scan *s)
{
    if (s->p >= s->end)
        return fail(s, "unexpected end of input");
    /* jansson counts every value, scalars too, at its nesting level. */
    if (s->depth + 1 > MAX_DEPTH)
        return fail(s, "maximum parsing depth reached");
    switch (*s->p) {
    case '{':
    case '[': {
        s->depth++;
        int rc = *s->p == '{' ? object(s) : array(s);
        s->depth--;
        return rc;
    }
    case '"':
        return string(s);
    case 't':
        return literal(s, "true");
    case 'f':
        return literal(s, "false");
    case 'n':
        return literal(s, "null");
    default:
        if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
            return number(s);
        return fail(s, "invalid token");
    }
}

int jscan_array(const char *buf, size_t len, struct jscan_item **items, size_t *n,
                char *err, size_t errlen)
{
    struct scan s = {(const unsigned char *)buf, (const unsigned char *)buf + len, 0, true,
                     err, errlen};
    struct jscan_item *v = NULL;
    size_t count = 0, cap = 0;
    *items = NULL;
    *n = 0;
    ws(&s, false);
    if (s.p >= s.end || *s.p != '[')
        return fail(&s, "not a JSON array");
    s.p++;
    s.depth = 1;
    ws(&s, false);
    bool closed = false;
    if (s.p < s.end && *s.p == ']') {
        s.p++;
        closed = true;
    }
    while (!closed) {
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 128;
            struct jscan_item *nv = realloc(v, ncap * sizeof *nv);
            if (!nv) {
                free(v);
                return fail(&s, "out of memory");
            }
            v = nv;
            cap = ncap;
        }
        const unsigned char *start = s.p;
        s.canonical = true;
        if (value(&s) != 0) {
            free(v);
            return -1;
        }
        v[count].off = (size_t)(start - (const unsigned char *)buf);
        v[count].len = (size_t)(s.p - start);
        v[count].canonical = s.canonical;
        count++;
        ws(&s, false);
        if (s.p >= s.end) {
            free(v);
            return fail(&s, "unterminated array");
        }
        if (*s.p == ']') {
            s.p++;
            closed = true;
        } else if (*s.p == ',') {
            s.p++;
            ws(&s, false);
        } else {
            free(v);
            return fail(&s, "',' or ']' expected");
        }
    }
    ws(&s, false);
    if (s.p != s.end) {
        free(v);
        return fail(&s, "end of input expected");
    }
    *items = v;
    *n = count;
    return 0;
}
