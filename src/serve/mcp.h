/* mcp.h - the Model Context Protocol server shared by `gusto-connect mcp`
 * (stdio, src/cli/cmd_mcp.c) and `gusto-connect serve` (POST /mcp,
 * server.c): JSON-RPC 2.0 messages in, answers out (mcp.c), and the tools
 * (mcp_tools.c), every one answered for the caller the transport
 * established, never for a person named in an argument.
 *
 * Protocol revisions: MCP_PROTOCOL_LATEST, the newest that the pinned
 * TypeScript SDK (@modelcontextprotocol/sdk 1.32.2) knows, and the older
 * ones it still speaks; initialize echoes the client's when it is one of
 * them, else answers with the latest (the client then decides). */
#ifndef GUSTO_SERVE_MCP_H
#define GUSTO_SERVE_MCP_H

#include "gusto.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define MCP_PROTOCOL_LATEST "2025-11-25"

/* Is v a protocol revision this server speaks? */
bool mcp_version_supported(const char *v);

/* Who is asking, as the transport established it (the operator's
 * --employee over stdio; an API key or a token over HTTP). */
struct mcp_caller {
    char name[128];              /* for the audit: "stdio", the key's name, "jwt:EMAIL" */
    char employee[330];          /* the bound employee's email, lower case; "" = an
                                    operator (no self-service tools) */
    /* An operator (an API key without an employee): its limits, as
     * serve_key_limits has them. */
    bool operator_key;
    char actions[512];           /* "" = every action */
    bool read_only;
    bool writes;                 /* write tools offered (preview, then confirm) */
};

/* What the tools need from their host; zero-initialised works (no mirror:
 * every self-service tool says so). */
struct mcp_config {
    const char *mirror;          /* the sync mirror's target (sync/store.h) */
    long max_age_s;              /* older than this: read the employee from Gusto
                                    and update the mirror; 0 = 3600 */
    bool allow_pay;              /* the company allows pay in self-service answers */
    /* A client for company (uuid) to refresh one employee from, or NULL
     * when none is configured (the stale answer is then given, marked so).
     * The tools free it with gusto_client_free(). */
    gusto_client *(*client_for)(void *ud, const char *company);
    /* Run one of serve's actions for an operator (server.c: the key's
     * grants and limits apply): the envelope (new reference) and its HTTP
     * status.  NULL on stdio: no operator tools. */
    json_t *(*run_action)(void *ud, const char *action, json_t *input, int *status);
    /* One audit line (borrowed; the host writes it), or NULL. */
    void (*audit)(void *ud, const json_t *line);
    void *ud;
};

/* One session's protocol state. */
struct mcp_session {
    char version[16];            /* the negotiated revision; "" before initialize */
    bool initialized;            /* notifications/initialized arrived */
};

/* Handle one JSON-RPC message (msg may be any JSON value; NULL = text that
 * did not parse).  Returns the answer (new reference), or NULL when the
 * message is a notification or a response, which get none. */
json_t *mcp_handle(const struct mcp_config *cfg, struct mcp_session *s,
                   const struct mcp_caller *who, const json_t *msg);

/* ---- mcp_tools.c ---------------------------------------------------------- */

/* The tools this caller may call, for tools/list (new reference). */
json_t *mcp_tools_list(const struct mcp_config *cfg, const struct mcp_caller *who);

/* Call a tool.  Returns the CallToolResult (new reference), or NULL with
 * *rpc_code and msg set (-32602: an unknown tool or a bad argument, named
 * in msg) for a JSON-RPC error.  Writes the audit line either way. */
json_t *mcp_tools_call(const struct mcp_config *cfg, const struct mcp_caller *who,
                       const char *name, const json_t *args, int *rpc_code, char *msg,
                       size_t msgcap);

#endif
