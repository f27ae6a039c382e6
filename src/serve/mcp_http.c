/* mcp_http.c - MCP's Streamable HTTP transport for `gusto-connect serve`
 * (POST, GET and DELETE /mcp): sessions (Mcp-Session-Id, each bound to the
 * caller that opened it), the MCP-Protocol-Version header, a JSON or an SSE
 * answer as the client accepts, 202 for notifications; the messages go to
 * mcp.c. */
#include "serve/mcp_http.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Sessions live in memory: a restart of serve ends them (clients then get
 * 404 and initialize again, as the transport says).  The least recently
 * used one makes room for a new one. */
#define MAX_SESSIONS 4096

struct slot {
    char id[40];
    char caller[128];
    struct mcp_session s;
    time_t used;
};

static struct slot sessions[MAX_SESSIONS];
static pthread_mutex_t slock = PTHREAD_MUTEX_INITIALIZER;

static void new_id(char id[40])
{
    unsigned char rnd[16];
    RAND_bytes(rnd, sizeof rnd);
    memcpy(id, "mcp_", 4);
    for (int i = 0; i < 16; i++)
        snprintf(id + 4 + 2 * i, 3, "%02x", rnd[i]);
}

/* The slot of id for caller, or NULL.  Caller holds slock. */
static struct slot *find(const char *id, const char *caller)
{
    for (int i = 0; i < MAX_SESSIONS; i++)
        if (sessions[i].id[0] && strcmp(sessions[i].id, id) == 0)
            return strcmp(sessions[i].caller, caller) == 0 ? &sessions[i] : NULL;
    return NULL;
}

static struct slot *take_slot(void)
{
    struct slot *best = &sessions[0];
    for (int i = 0; i < MAX_SESSIONS; i++) {
        if (!sessions[i].id[0])
            return &sessions[i];
        if (sessions[i].used < best->used)
            best = &sessions[i];
    }
    return best;
}

static bool accepts(const char *accept, const char *type)
{
    return accept && (strstr(accept, type) || strstr(accept, "*/*"));
}

static void fail(struct mcp_http_answer *a, int status, int code, const char *message)
{
    a->status = status;
    a->body = json_pack("{s:s, s:n, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", "error", "code",
                        code, "message", message);
}

void mcp_http_post(const struct mcp_config *cfg, const struct mcp_caller *who,
                   const struct mcp_http_request *rq, struct mcp_http_answer *a)
{
    memset(a, 0, sizeof *a);
    if (!accepts(rq->accept, "application/json") && !accepts(rq->accept, "text/event-stream")) {
        fail(a, 406, -32600, "Not Acceptable: accept application/json or text/event-stream");
        return;
    }
    if (rq->protocol_version && !mcp_version_supported(rq->protocol_version)) {
        fail(a, 400, -32600, "Bad Request: unsupported MCP-Protocol-Version");
        return;
    }
    json_error_t je;
    json_t *msg = rq->len ? json_loadb(rq->body, rq->len, 0, &je) : NULL;
    const char *method = json_string_value(json_object_get(msg, "method"));
    bool init = method && strcmp(method, "initialize") == 0;
    struct mcp_session s;
    memset(&s, 0, sizeof s);
    if (!init) {
        if (!rq->session_id || !*rq->session_id) {
            json_decref(msg);
            fail(a, 400, -32600, "Bad Request: no Mcp-Session-Id; initialize first");
            return;
        }
        pthread_mutex_lock(&slock);
        struct slot *sl = find(rq->session_id, who->name);
        if (sl)
            s = sl->s;
        pthread_mutex_unlock(&slock);
        if (!sl) {
            json_decref(msg);
            fail(a, 404, -32001, "Session not found: initialize again");
            return;
        }
    }
    json_t *reply = mcp_handle(cfg, &s, who, msg);
    json_decref(msg);
    if (init && reply && json_object_get(reply, "result")) {
        pthread_mutex_lock(&slock);
        struct slot *sl = take_slot();
        new_id(sl->id);
        snprintf(sl->caller, sizeof sl->caller, "%s", who->name);
        sl->s = s;
        sl->used = time(NULL);
        snprintf(a->session_id, sizeof a->session_id, "%s", sl->id);
        pthread_mutex_unlock(&slock);
    } else if (!init) {
        pthread_mutex_lock(&slock);
        struct slot *sl = find(rq->session_id, who->name);
        if (sl) {
            sl->s = s;
            sl->used = time(NULL);
        }
        pthread_mutex_unlock(&slock);
    }
    if (!reply) {
        a->status = 202;         /* a notification or a response: accepted, no body */
        return;
    }
    a->status = 200;
    a->body = reply;
    a->sse = !accepts(rq->accept, "application/json");
}

int mcp_http_delete(const struct mcp_caller *who, const char *session_id)
{
    if (!session_id || !*session_id)
        return 400;
    pthread_mutex_lock(&slock);
    struct slot *sl = find(session_id, who->name);
    if (sl)
        memset(sl, 0, sizeof *sl);
    pthread_mutex_unlock(&slock);
    return sl ? 204 : 404;
}
