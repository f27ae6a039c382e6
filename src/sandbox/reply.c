/* reply.c - Gusto-shaped responses: JSON bodies and {"errors":[...]} errors. */
#include "sandbox/sandbox.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int reply_json(struct request *r, int status, json_t *body)
{
    json_decref(r->reply);
    /* The last reply wins, whichever kind the earlier one was. */
    free(r->raw_reply);
    r->raw_reply = NULL;
    r->content_type = NULL;
    r->status = status;
    r->reply = body;
    return 0;
}

int reply_text(struct request *r, int status, char *json_text)
{
    json_decref(r->reply);
    r->reply = NULL;
    free(r->raw_reply);
    r->status = status;
    r->raw_reply = json_text;
    r->content_type = NULL;
    return 0;
}

int reply_empty(struct request *r, int status)
{
    return reply_json(r, status, NULL);
}

static json_t *error_entry(const char *key, const char *category,
                           const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    return json_pack("{s:s, s:s, s:s}", "error_key", key, "category", category,
                     "message", msg);
}

int reply_error(struct request *r, int status, const char *key,
                const char *category, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_t *e = error_entry(key, category, fmt, ap);
    va_end(ap);
    if (status == 422 && r->entity_type)
        json_object_set_new(e, "metadata",
                            json_pack("{s:s, s:s?}", "entity_type", r->entity_type,
                                      "entity_uuid", *r->entity_uuid ? r->entity_uuid : NULL));
    return reply_json(r, status, json_pack("{s:[o]}", "errors", e));
}

int reply_not_found(struct request *r)
{
    return reply_error(r, 404, "request", "not_found",
                       "The requested resource was not found.");
}

int reply_missing_scope(struct request *r, const char *scope)
{
    char msg[256];
    snprintf(msg, sizeof msg,
             "You do not have the '%.100s' OAuth scope required for this request.", scope);
    return reply_json(r, 403,
                      json_pack("{s:[{s:s, s:s, s:s, s:{s:s}}]}", "errors", "error_key",
                                "request", "category", "missing_oauth_scopes", "message", msg,
                                "metadata", "missing_scope_name", scope));
}
#define STALE_MESSAGE "You are attempting to update a resource using an out-of-date version."

int reply_conflict(struct request *r)
{
    return reply_error(r, 409, "base", "invalid_resource_version", STALE_MESSAGE);
}

int reply_stale(struct request *r, int status)
{
    if (status != 422)
        return reply_conflict(r);
    struct errlist e = {0};
    errlist_add(&e, "base", "invalid_resource_version", STALE_MESSAGE);
    return reply_errlist(r, &e);
}

void errlist_add(struct errlist *e, const char *key, const char *category,
                 const char *fmt, ...)
{
    if (!e->errors)
        e->errors = json_array();
    va_list ap;
    va_start(ap, fmt);
    json_array_append_new(e->errors, error_entry(key, category, fmt, ap));
    va_end(ap);
}

void req_entity(struct request *r, const char *type, const char *uuid)
{
    r->entity_type = type;
    snprintf(r->entity_uuid, sizeof r->entity_uuid, "%s", uuid ? uuid : "");
}

int reply_errlist(struct request *r, struct errlist *e)
{
    json_t *errs = e->errors ? e->errors : json_array();
    e->errors = NULL;
    size_t i;
    json_t *it;
    json_array_foreach(errs, i, it) {
        if (r->entity_type && !json_object_get(it, "metadata"))
            json_object_set_new(it, "metadata",
                                json_pack("{s:s, s:s?}", "entity_type", r->entity_type,
                                          "entity_uuid",
                                          *r->entity_uuid ? r->entity_uuid : NULL));
    }
    return reply_json(r, 422, json_pack("{s:o}", "errors", errs));
}

int db_error(struct request *r)
{
    return reply_error(r, 500, "request", "internal_error", "An unexpected error has occurred.");
}
