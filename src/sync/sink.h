/* sink.h - where sync events go: JSON lines to a file or stdout, or one
 * signed POST per event to a webhook URL, retried with backoff.
 *
 * Webhook requests carry Content-Type: application/json and
 *   X-Gusto-Connect-Event-Id: the event's id (stable: receivers dedupe on it)
 *   X-Gusto-Connect-Event-Type: e.g. employee.updated
 *   X-Gusto-Connect-Timestamp: unix seconds
 *   X-Gusto-Connect-Signature: sha256=HEX, the HMAC-SHA256 under the shared
 *       secret of "TIMESTAMP.BODY".
 * Delivery is retried on network errors, 408, 429 and 5xx (5 attempts,
 * 0.25 s doubling); another 4xx stops delivery.  Plain http:// is allowed
 * only to loopback addresses, and redirects are not followed. */
#ifndef GUSTO_SYNC_SINK_H
#define GUSTO_SYNC_SINK_H

#include <stdbool.h>
#include <stddef.h>

struct sink;

/* path "-" is stdout (no cursor: it gets the events of this run). */
struct sink *sink_file_open(const char *path, char *err, size_t errlen);
/* secret: the HMAC key (copied, wiped on close). */
struct sink *sink_webhook_open(const char *url, const char *secret, char *err, size_t errlen);

/* The cursor key ("file:/abs/path", "webhook:URL"), NULL for stdout. */
const char *sink_key(const struct sink *s);

/* Deliver one event (its JSON payload).  0, or -1 with a message. */
int sink_send(struct sink *s, const char *event_id, const char *type, const char *payload,
              char *err, size_t errlen);
/* Make what was sent durable (fsync a file).  0 or -1. */
int sink_flush(struct sink *s, char *err, size_t errlen);
void sink_close(struct sink *s);

/* HMAC-SHA256 of "timestamp.body" under key, as 64 hex digits. */
void sink_signature(const char *key, const char *timestamp, const char *body, char out[65]);

/* Is url http(s) to a host we may send to (any https; http only to
 * loopback)?  Fills why when not. */
bool sink_url_allowed(const char *url, char *why, size_t cap);

#endif
