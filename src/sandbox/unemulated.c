/* unemulated.c - finding a request among the operations of Gusto's spec the
 * sandbox does not emulate (spec_paths.c, generated), and the 501 that says
 * so in Gusto's error shape (docs/sandbox.md, "What the sandbox does not
 * emulate"). */
#include "sandbox/sandbox.h"

#include <string.h>

/* A spec template's "{...}" segment takes any one non-empty path segment; a
 * trailing slash on the path is tolerated, as route_find() does. */
static bool template_matches(const char *t, const char *p)
{
    while (*t && *p) {
        if (*t == '{') {
            const char *close = strchr(t, '}');
            if (!close || *p == '/')
                return false;
            while (*p && *p != '/')
                p++;
            t = close + 1;
        } else if (*t++ != *p++) {
            return false;
        }
    }
    return *t == 0 && (*p == 0 || (p[0] == '/' && p[1] == 0));
}

const struct spec_op *spec_unemulated(const char *method, const char *path, bool routed)
{
    /* A routed request (every served one) looks at the few shadowed ones. */
    size_t n = routed ? SPEC_SHADOWED_N : SPEC_UNEMULATED_N;
    for (size_t i = 0; i < n; i++) {
        const struct spec_op *op = &SPEC_UNEMULATED[i];
        if (strcmp(op->method, method) == 0 && template_matches(op->path, path))
            return op;
    }
    return NULL;
}

int reply_unemulated(struct request *r, const struct spec_op *op)
{
    return reply_error(r, 501, "request", "not_implemented",
                       "gusto-sandbox does not emulate %s %s (docs/sandbox.md, \"What the "
                       "sandbox does not emulate\").", op->method, op->path);
}
