/* codenames.c - libgusto's codes as the words of an error envelope's "code" (one table, for the CLI and serve). */
#include "shared/codenames.h"

const char *code_name_text(gusto_code code)
{
    switch (code) {
    case GUSTO_OK: return "ok";
    case GUSTO_EINVAL: return "invalid_input";
    case GUSTO_ENOMEM: return "out_of_memory";
    case GUSTO_ENETWORK: return "network_error";
    case GUSTO_EAUTH: return "authentication_failed";
    case GUSTO_EFORBIDDEN: return "permission_denied";
    case GUSTO_ENOTFOUND: return "not_found";
    case GUSTO_ECONFLICT: return "version_conflict";
    case GUSTO_EINVALID_DATA: return "invalid_data";
    case GUSTO_ERATELIMIT: return "rate_limited";
    case GUSTO_ESERVER: return "server_error";
    case GUSTO_EHTTP: return "unexpected_http_status";
    case GUSTO_EPROTOCOL: return "malformed_response";
    case GUSTO_EPARTIAL: return "partially_completed";
    case GUSTO_ECANCELED: return "canceled";
    case GUSTO_EDUPLICATE: return "duplicate_employee";
    }
    return "error";
}
