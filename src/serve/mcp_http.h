/* mcp_http.h - MCP's Streamable HTTP transport (mcp_http.c), for server.c:
 * one POST /mcp in, the status, headers and body to send out. */
#ifndef GUSTO_SERVE_MCP_HTTP_H
#define GUSTO_SERVE_MCP_HTTP_H

#include "serve/mcp.h"

struct mcp_http_request {
    const char *body;            /* the POST body (borrowed) */
    size_t len;
    const char *accept;          /* Accept header, or NULL */
    const char *session_id;      /* Mcp-Session-Id header, or NULL */
    const char *protocol_version; /* MCP-Protocol-Version header, or NULL */
};

struct mcp_http_answer {
    int status;                  /* 200, 202 (no body), 400, 404, 406 */
    json_t *body;                /* the JSON-RPC message to send (owned), or NULL */
    bool sse;                    /* send body as one SSE "message" event */
    char session_id[40];         /* set after a successful initialize: send it as
                                    Mcp-Session-Id */
};

/* Handle one POST /mcp of an authenticated caller.  The session named by
 * the header must have been opened by the same caller (who->name), else
 * 404, as for an unknown one.  Thread-safe. */
void mcp_http_post(const struct mcp_config *cfg, const struct mcp_caller *who,
                   const struct mcp_http_request *rq, struct mcp_http_answer *a);

/* DELETE /mcp: end the caller's session.  204, 404 unknown, 400 none named. */
int mcp_http_delete(const struct mcp_caller *who, const char *session_id);

#endif
