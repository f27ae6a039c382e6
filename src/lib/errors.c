/* errors.c - gusto_strerror() and gusto_code_name() from the one code table, and helpers that
 * fill a caller's gusto_error (which may be NULL). */
#include "lib/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *gusto_strerror(gusto_code code)
{
    switch (code) {
#define GUSTO_TEXT_(code, name, text) case code: return text;
        GUSTO_CODES(GUSTO_TEXT_)
#undef GUSTO_TEXT_
    }
    return "unknown error";
}

const char *gusto_code_name(gusto_code code)
{
    switch (code) {
#define GUSTO_NAME_(code, name, text) case code: return name;
        GUSTO_CODES(GUSTO_NAME_)
#undef GUSTO_NAME_
    }
    return "error";
}

void err_clear(gusto_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

gusto_code err_set(gusto_error *err, gusto_code code, const char *fmt, ...)
{
    if (!err)
        return code;
    err_clear(err);
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return code;
}

void err_field(gusto_error *err, const char *field)
{
    if (err)
        snprintf(err->field, sizeof err->field, "%s", field ? field : "");
}

void err_reason(gusto_error *err, const char *reason)
{
    if (err)
        snprintf(err->reason, sizeof err->reason, "%s", reason);
}

void err_hint(gusto_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->hint, sizeof err->hint, fmt, ap);
    va_end(ap);
}
