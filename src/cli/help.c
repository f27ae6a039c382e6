/* help.c - the usage text of every command, for `gusto-connect help [COMMAND]`
 * and -h/--help. */
#include "cli/cli.h"
#include "cli/output.h"

#include "shared/didyoumean.h"

#include <stdio.h>
#include <string.h>

#define GLOBAL_OPTIONS                                                                  \
    "Global options (before or after the command):\n"                                  \
    "  --env demo|production|sandbox|URL  Gusto Demo (default; sandbox is the same),\n"  \
    "                            production, or a base URL such as\n"                     \
    "                            http://127.0.0.1:8080 (plain http only to loopback)\n"   \
    "  --company UUID            the company (default: the token's company)\n"           \
    "  --connection NAME         a stored connection (default: gusto-connect use's,\n"   \
    "                            or the only one)\n"                                      \
    "  --store PATH              the connection store (default\n"                         \
    "                            ~/.config/gusto-connect/connections.db; one left in\n"  \
    "                            ~/.config/gusto, Gusto CLI's, is moved there once)\n"   \
    "  --token-stdin             read the access token from the first line of stdin\n"   \
    "  --api-version VERSION     Gusto API version (X-Gusto-API-Version; default\n"      \
    "                            " GUSTO_API_VERSION ", or GUSTO_API_VERSION); one Gusto\n"   \
    "                            has retired or not released is refused\n"               \
    "  --timeout SECONDS         per request (default 30)\n"                             \
    "  --retries N               retries on 429, 5xx and network errors (default 4;\n"   \
    "                            0: none)\n"                                              \
    "  --rate-limit N            requests per minute (default 200; 0: no limit)\n"       \
    "  -o, --output FORMAT       json, table, ndjson (lists: one object a line) or\n"   \
    "                            wide (a table of every column, nothing cut);\n"        \
    "                            default: table on a terminal, json on a pipe\n"        \
    "  --json                    the same as --output json\n"                           \
    "  --fields A,B,...          the columns (table) or keys (json, ndjson) of a list\n" \
    "  --no-color                no colour (nor with NO_COLOR set, nor on a pipe)\n"    \
    "  -v, --verbose             trace requests on stderr (secrets redacted)\n"          \
    "  -q, --quiet               no warnings or summaries on stderr\n"                   \
    "  -h, --help                this help;  --version  the version\n"

/* The same table as EXIT STATUS in man/gusto-connect.1 (tests/cli_test.sh
 * compares them).  0-9 mean what they mean in Gusto's own CLI. */
#define EXIT_STATUS                                                                     \
    "Exit status (0-9 as in Gusto's own CLI; 10 and up are gusto-connect's own):\n"    \
    "  0 success\n"                                                                     \
    "  1 general error\n"                                                               \
    "  2 usage error (also an --env that contradicts the connection's)\n"               \
    "  3 authentication (401/403, no token)\n"                                          \
    "  4 the API refused it (4xx: not found, conflict, invalid data, rate limited)\n"   \
    "  5 API server error (5xx)\n"                                                      \
    "  6 network error or malformed response\n"                                         \
    "  7 invalid input, refused before anything was sent\n"                             \
    "  8 blocked until --confirm: gusto-connect sync would terminate too many\n"        \
    "  9 timeout: a request got no answer within --timeout\n"                           \
    " 10 gusto-connect sync skipped a company whose lease another live worker holds\n"  \
    " 11 employees create refused a duplicate: an active employee is the same\n"        \
    "    person (same email, or name and date of birth); --allow-duplicate\n"           \
    " 12 partial success: the employee was created, some part was not; a batch\n"       \
    "    finished with some people not created; sync failed some companies\n"           \
    "130 gusto-connect sync stopped by SIGINT/SIGTERM; its leases released\n"

static const struct {
    const char *name;
    const char *text;
} HELP[] = {
    {"",
     "Usage: gusto-connect [OPTIONS] COMMAND [ARGS]\n"
     "\n"
     "Gusto's payroll API from the command line: employees and time off.\n"
     "\n"
     "Commands:\n"
     "  employees list            list employees (streamed)\n"
     "  employees create          create an employee with address, job and pay\n"
     "  employees get UUID        show one employee\n"
     "  employees update UUID     change an employee\n"
     "  batch create --input FILE create many employees at once (JSON or CSV)\n"
     "  batch status UUID         a people batch's progress and results\n"
     "  time-off UUID             time-off balances and activities\n"
     "  api METHOD PATH           send any request to the API\n"
     "  connect                   sign in with OAuth and store the connection\n"
     "  status                    check the stored connections and the API version\n"
     "  disconnect                forget a stored connection\n"
     "  use [NAME]                show or set the default connection\n"
     "  sync                      mirror companies' employees into a directory store\n"
     "  profile --email ADDRESS   an employee's profile from the mirror\n"
     "  mcp --employee EMAIL      an MCP server on stdio for that one employee\n"
     "  serve                     the connector as an HTTP service, and webhooks\n"
     "  version                   the version of gusto-connect and libgusto\n"
     "  help [COMMAND]            help on a command\n"
     "\n" GLOBAL_OPTIONS
     "\n"
     "Environment:\n"
     "  GUSTO_ACCESS_TOKEN        the access token (never give it as an argument);\n"
     "                            without it, the stored connection is used\n"
     "  GUSTO_CONNECTION          the stored connection, like --connection\n"
     "  GUSTO_STORE               the connection store: a file, or a postgres:// URL\n"
     "                            that many machines share\n"
     "  GUSTO_STORE_KEY, GUSTO_STORE_KEY_FILE  its key (64 hex digits) or a file\n"
     "                            holding it; a PostgreSQL store needs one of them\n"
     "  GUSTO_CLIENT_ID, GUSTO_CLIENT_SECRET  for gusto-connect connect\n"
     "  GUSTO_COMPANY_UUID        the company, like --company\n"
     "  GUSTO_API_BASE_URL        a base URL, like --env URL\n"
     "  GUSTO_ENV                 demo, production or sandbox, like --env\n"
     "  GUSTO_ENVIRONMENT         sandbox or production: Gusto's CLI's name for it\n"
     "  GUSTO_API_VERSION         the Gusto API version, like --api-version (which wins)\n"
     "  GUSTO_SYNC_DB             the sync mirror, like sync/profile --db\n"
     "  GUSTO_WEBHOOK_SECRET      the key that signs gusto-connect sync --webhook requests\n"
     "  (--env wins over GUSTO_API_BASE_URL, which wins over GUSTO_ENV and\n"
     "  GUSTO_ENVIRONMENT; two of them naming different Gusto environments are refused)\n"
     "\n"
     "  COLUMNS                   the width tables and the progress bar fit\n"
     "  NO_COLOR                  any value but empty: no colour, like --no-color\n"
     "\n"
     "Output: when stdout is not a terminal, or with --output json, every command\n"
     "prints one JSON envelope: {\"ok\":true,\"data\":...} or {\"ok\":false,\"error\":\n"
     "{\"code\",\"message\",\"details\",\"request_id\",\"hint\"}}; a streamed list is\n"
     "{\"data\":[...],\"ok\":true} with \"ok\" last.  On a terminal it prints tables that\n"
     "fit the width (COLUMNS, else the terminal's), cutting cells with an ellipsis\n"
     "and leaving out the least important columns; errors go to stderr.  A table on\n"
     "a pipe (--output table) is cut only when COLUMNS is set.\n"
     "\n"
     "Exit status: 0 success, 8 blocked until --confirm, 9 timeout, 12 partial\n"
     "success; every status: gusto-connect help exit-codes (EXIT STATUS in man\n"
     "gusto-connect).\n"},
    {"employees",
     "Usage: gusto-connect employees list|create|get|update ...\n"
     "\n"
     "  employees list [--search TERM] [--terminated|--active] [--include LIST]\n"
     "  employees create [--input FILE|-] [--allow-duplicate] [--dry-run]\n"
     "  employees get UUID\n"
     "  employees update UUID [--input FILE|-] [--correct] [--dry-run]\n"
     "\n"
     "Run 'gusto-connect help employees SUBCOMMAND' for details.\n"},
    {"employees list",
     "Usage: gusto-connect employees list [--search TERM] [--terminated|--active]\n"
     "                            [--include LIST] [--limit N [--cursor C] | --all]\n"
     "\n"
     "List the company's employees, printing each as it arrives: everyone by\n"
     "default (--all), or a page of --limit N, continued with --cursor.\n"
     "\n"
     "Options:\n"
     "  --search TERM     first, preferred or last name containing TERM\n"
     "  --terminated      only terminated employees (and scheduled terminations)\n"
     "  --active          only employees who are not terminated\n"
     "  --include LIST    comma-separated extras: all_compensations,\n"
     "                    all_home_addresses, company_name, current_home_address,\n"
     "                    custom_fields, portal_invitations\n"
     "  --limit N         at most N employees (1-100000); the next page's cursor is\n"
     "                    \"next_cursor\" in JSON (null after the last), and a line\n"
     "                    on stderr with a table or ndjson\n"
     "  --cursor C        continue where the page that gave C ended (same filters)\n"
     "  --all             everyone (the default)\n"
     "\n"
     "On a terminal: a table of uuid, name, title, department and status (active,\n"
     "onboarding, terminating, terminated) that fits the width; --output wide adds\n"
     "email, work_email, hired_at, manager_uuid, employee_code, first_name and\n"
     "last_name; --fields picks any of them.  A list that takes more than a second\n"
     "shows a progress bar on stderr.  Otherwise: {\"data\":[EMPLOYEE,...],\"ok\":true}\n"
     "(with --limit or --cursor, \"next_cursor\" before \"ok\"); should the listing fail\n"
     "half-way, it ends ],\"ok\":false,\"error\":{...}} instead.  --output ndjson: one\n"
     "employee a line, and on a failure a last line {\"ok\":false,\"error\":{...}}.\n"
     "\n"
     "Examples:\n"
     "  gusto-connect employees list --search ada | jq -r '.data[].uuid'\n"
     "  gusto-connect employees list --limit 50 --fields uuid,name,status\n"
     "  gusto-connect --output ndjson employees list > employees.ndjson\n"},
    {"employees create",
     "Usage: gusto-connect employees create [--input FILE|-] [--allow-duplicate] [--dry-run]\n"
     "\n"
     "Create an employee, then each part given: home_address, work_address, job and\n"
     "compensation.  The input is a JSON object read from FILE, or from stdin\n"
     "('-', or no --input when stdin is not a terminal).  Everything is checked\n"
     "before anything is sent.\n"
     "\n"
     "No duplicates: before creating, it looks for an active employee with the same\n"
     "email or work_email (any case), or the same first name, last name and date of\n"
     "birth.  If there is one, nothing is sent and it exits 11 naming that employee\n"
     "(error.details.duplicate_of).  Gusto never returns SSNs, so a person who\n"
     "shares only an SSN with an employee is not caught.\n"
     "\n"
     "Options:\n"
     "  --input FILE|-    the JSON input\n"
     "  --allow-duplicate create even so: a true second record of the same person\n"
     "  --dry-run         check the input and print the requests that would be\n"
     "                    sent (SSNs and account numbers masked); send nothing\n"
     "\n"
     "Input: {\"first_name\", \"last_name\", \"email\", \"date_of_birth\", \"ssn\", ...,\n"
     "  \"home_address\": {\"street_1\", \"city\", \"state\", \"zip\"},\n"
     "  \"work_address\": {\"location_uuid\"} or {\"location\": \"Denver\"},\n"
     "  \"job\": {\"title\", \"hire_date\"},\n"
     "  \"compensation\": {\"rate\": \"85000.00\", \"payment_unit\": \"Year\",\n"
     "                   \"flsa_status\": \"Exempt\"}}\n"
     "\n"
     "Output: {\"ok\":true,\"data\":{\"employee\":{...},\"warnings\":[...]}}.  Exit 0 when\n"
     "everything was created; 8 when the employee was created but a part was not\n"
     "(each warning names the part, why, and the command that adds it); 7 when\n"
     "the input is invalid and nothing was sent; 11 for a duplicate.\n"
     "\n"
     "Example:\n"
     "  gusto-connect employees create --input ada.json --dry-run\n"},
    {"employees get",
     "Usage: gusto-connect employees get UUID\n"
     "\n"
     "Show an employee with the current home and work address and every job with\n"
     "its compensations.  On a terminal: the status (\"active, terminating on DATE\"\n"
     "for a termination still to come), the termination date, and the manager by\n"
     "name (read from manager_uuid).  Exit 4 when there is no such employee.\n"},
    {"employees update",
     "Usage: gusto-connect employees update UUID [--input FILE|-] [--correct] [--dry-run]\n"
     "\n"
     "Change an employee.  The input holds the fields to change, and optionally\n"
     "\"home_address\", \"work_address\" and \"job\" objects with the fields to\n"
     "change in the current address and the primary job, and \"compensation\": a pay\n"
     "change.  A pay change is a new compensation, effective on its\n"
     "\"effective_date\" (or, without one, on the first pay period no payroll has\n"
     "run for, as Gusto picks); the pay before it stays as it was.  Fields not given\n"
     "are the current compensation's.  Versions are handled for you; when someone\n"
     "else changed the same fields meanwhile, the update stops with exit 4\n"
     "(version_conflict).  An update stopped part way says what it had done:\n"
     "error.details.update lists the parts applied and not applied, each with its\n"
     "fields, and the failing call with Gusto's request id (also on stderr).\n"
     "\n"
     "Options:\n"
     "  --input FILE|-    the JSON input (default: stdin when it is not a terminal)\n"
     "  --correct         correct the current compensation in place instead (a\n"
     "                    wrong rate, not a raise); Gusto refuses this for pay\n"
     "                    already processed on a payroll (API version 2026-12-01)\n"
     "  --dry-run         check the input and print the requests; send nothing.\n"
     "                    With a pay change it reads the employee to show the old\n"
     "                    pay and the new\n"
     "\n"
     "Examples:\n"
     "  echo '{\"job\":{\"title\":\"CTO\"}}' | gusto-connect employees update UUID\n"
     "  echo '{\"compensation\":{\"rate\":\"95000.00\",\"effective_date\":\"2027-01-01\"}}' \\\n"
     "    | gusto-connect employees update UUID --dry-run\n"},
    {"batch",
     "Usage: gusto-connect batch create|status ...\n"
     "\n"
     "  batch create --input FILE|- [--idempotency-key UUID] [--wait] [--dry-run]\n"
     "  batch status UUID [--wait]\n"
     "\n"
     "Run 'gusto-connect help batch SUBCOMMAND' for details.\n"},
    {"batch create",
     "Usage: gusto-connect batch create --input FILE|- [--idempotency-key UUID] [--wait]\n"
     "                          [--dry-run] [--separator comma|semicolon|tab]\n"
     "\n"
     "Create many employees in one people batch (Gusto's bulk onboarding).  Every\n"
     "entry is checked first; if any is wrong nothing is sent, and every problem is\n"
     "listed by row and field (exit 7).\n"
     "\n"
     "Input, detected by the .csv/.json name or else by the first character:\n"
     "  JSON  an array of Gusto batch entries ({\"person\": {...}, \"home_address\",\n"
     "        \"work_address\", \"department\", \"job\", \"compensation\",\n"
     "        \"bank_accounts\": [...]}), or a whole request body with \"batch\" (and\n"
     "        its idempotency_key).  Row N is the N-th entry.\n"
     "  CSV   (RFC 4180) a header row of API field names as dotted paths, then one\n"
     "        person per line; row numbers are line numbers (the header is line 1).\n"
     "        person.external_id, person.first_name, person.last_name,\n"
     "        person.middle_initial, person.preferred_first_name, person.email,\n"
     "        person.work_email, person.ssn, person.date_of_birth,\n"
     "        person.self_onboarding, home_address.street_1 (street_2, city, state,\n"
     "        zip, country, work_from_home), work_address.location_uuid,\n"
     "        department.department_uuid, job.title (hire_date,\n"
     "        two_percent_shareholder, state_wc_covered, state_wc_class_code),\n"
     "        compensation.rate (payment_unit, flsa_status), and per bank account N\n"
     "        (0 to 9, in priority order) bank_accounts.N.routing_number\n"
     "        (account_number, account_type, split_by, split_amount, name, type).\n"
     "        An empty cell leaves the field out; booleans are true/false, yes/no or\n"
     "        1/0.  A bank account with any value is sent; its type defaults to\n"
     "        Direct Deposit and an empty split_amount is null (the remainder).\n"
     "\n"
     "CSV as people write it: a header may also be a field's own name (first_name,\n"
     "email, zip) or a spreadsheet heading (First Name, Last Name, Email, Work\n"
     "Email, External ID or Employee ID, Date of Birth or DOB, Start Date or Hire\n"
     "Date, Job Title, Pay Rate, Hourly Rate or Salary, Pay Unit, FLSA Status,\n"
     "Street or Address, City, State, Zip Code, Routing Number, Account Number):\n"
     "case, spaces and punctuation do not count, and an unknown one gets a \"did you\n"
     "mean\".  The separator (comma, semicolon or tab) is read from the header\n"
     "unless --separator says; a BOM and CRLF line ends are fine.  Values are\n"
     "rewritten to Gusto's, each kind reported (a warning with its lines, and\n"
     "\"normalised\" in the output): units of pay (yearly, annual -> Year; hourly ->\n"
     "Hour; weekly, monthly), FLSA status (exempt, salaried -> Exempt; non-exempt,\n"
     "hourly -> Nonexempt), states (tx, Texas -> TX), dates (3/1/2025 as US\n"
     "month/day, 2025-3-1, March 1, 2025 -> 2025-03-01), pay ($52,000.00 ->\n"
     "52000.00) and SSNs (9 digits -> xxx-xx-xxxx).  What cannot be read for sure\n"
     "(13/1/2025, 3/1/25, 2/30/2025, an unknown unit or state) is refused with its\n"
     "line, column and what was expected, and nothing is sent.  A row without an\n"
     "external_id gets one made from its email (else work email, else names and\n"
     "date of birth): gc- and 12 hex digits, the same on every run of the file.\n"
     "The input is then copied with them to NAME.with-ids.csv (written atomically,\n"
     "mode 0600, with its own key file; the input itself is never changed): use\n"
     "that file from then on.\n"
     "\n"
     "No duplicates: the idempotency key is saved in FILE.idempotency-key (mode 0600,\n"
     "with a hash of the input) before anything is sent.  Running the command again\n"
     "with the same input reuses it, and Gusto answers with the batch already made,\n"
     "so nobody is created twice; a changed input gets a new key (with a warning).\n"
     "The file also remembers each batch the input made.  A re-run of a changed\n"
     "input (rows fixed or added) reads them back, leaves out every external_id\n"
     "that already has an employee, lists those under \"already_created\" (row,\n"
     "external_id, employee_uuid, batch_uuid), and sends only the rest.\n"
     "\n"
     "Options:\n"
     "  --input FILE|-          the entries (stdin's key is not saved: see the warning)\n"
     "  --idempotency-key UUID  use this key (and save it) instead\n"
     "  --wait                  poll until the batch is finished (backoff up to 5 s;\n"
     "                          progress on stderr on a terminal), then list each\n"
     "                          external_id with its employee_uuid or its errors\n"
     "  --dry-run               check and print the request (SSNs and account numbers\n"
     "                          masked); send nothing, save nothing\n"
     "  --separator SEP         the CSV's separator: comma, semicolon or tab\n"
     "                          (default: read from the header)\n"
     "\n"
     "Output: {\"ok\":true,\"data\":{\"uuid\",\"idempotency_key\",\"status\",\"existing\",\n"
     "\"results\":[{\"row\",\"external_id\",\"status\",\"employee_uuid\",\"errors\"}],...}}.\n"
     "Exit 0 when accepted (or finished with everyone created), 12 when the batch\n"
     "finished but someone was not created, 7 for invalid input (error.details.errors\n"
     "lists every problem: {\"row\",\"field\",\"message\"}), 4 when Gusto refused it.\n"
     "\n"
     "Example:\n"
     "  gusto-connect batch create --input new-hires.csv --wait\n"},
    {"batch status",
     "Usage: gusto-connect batch status UUID [--wait]\n"
     "\n"
     "A people batch's status (pending, processing, completed, partial_success or\n"
     "failed) and the result of each person so far; row is the entry's position.\n"
     "A person Gusto created in part (partial_success) shows which parts were\n"
     "created and which were not (attributes); entries Gusto excluded (a repeated\n"
     "external_id) are listed under exclusions, not as results.\n"
     "With --wait, poll until it is finished.  Exit 12 when it finished with people\n"
     "not (fully) created or excluded, 4 when there is no such batch.\n"},
    {"time-off",
     "Usage: gusto-connect time-off UUID [--type vacation|sick|all]\n"
     "\n"
     "An employee's time-off activities and, per policy, the balance after the\n"
     "latest activity.\n"
     "\n"
     "Options:\n"
     "  --type TYPE       vacation, sick or all (default all)\n"},
    {"api",
     "Usage: gusto-connect api METHOD PATH [--data JSON | --input FILE|-]\n"
     "\n"
     "Send any request.  METHOD is GET, POST, PUT, PATCH or DELETE.  PATH starts\n"
     "with / and may contain {company_uuid}, which is filled in.  An absolute URL\n"
     "is refused unless it points at the --env base URL (exit 7): the token goes\n"
     "nowhere else.\n"
     "\n"
     "Options:\n"
     "  --data JSON       the request body\n"
     "  --input FILE|-    the request body from a file or stdin\n"
     "\n"
     "On a terminal the response body is printed as it came; otherwise it is the\n"
     "envelope's data.\n"
     "\n"
     "Example:\n"
     "  gusto-connect api GET '/v1/companies/{company_uuid}/locations'\n"},
    {"connect",
     "Usage: gusto-connect connect --env demo|production|URL --client-id ID [--name NAME]\n"
     "                     [--redirect-uri URI] [--client-secret-stdin] [--no-browser]\n"
     "                     [--wait SECONDS]\n"
     "\n"
     "Sign in to Gusto with your app (OAuth 2.0 authorization code).  The command\n"
     "prints the authorize URL (and opens a browser when it can, with a clean\n"
     "environment), listens on the loopback redirect URI, ignores redirects whose\n"
     "state is not this request's, exchanges the code with its PKCE verifier,\n"
     "reads the token's company (shown by name) and stores the connection, tokens\n"
     "encrypted.  A connection of that --name in another environment is not\n"
     "replaced (exit 2, before the consent page); in the same one it is, and the\n"
     "output says \"replaced\".\n"
     "\n"
     "The client secret comes from GUSTO_CLIENT_SECRET, from stdin with\n"
     "--client-secret-stdin, or from a prompt; never from the command line.\n"
     "\n"
     "Options:\n"
     "  --client-id ID        your app's client id (or GUSTO_CLIENT_ID)\n"
     "  --name NAME           the connection's name (default ENV-COMPANYPREFIX)\n"
     "  --redirect-uri URI    registered with your app; must be\n"
     "                        http://127.0.0.1:PORT/PATH (default\n"
     "                        http://127.0.0.1:8765/callback); not localhost,\n"
     "                        which may also mean [::1]\n"
     "  --client-secret-stdin read the secret from the first line of stdin\n"
     "  --no-browser          only print the URL\n"
     "  --wait SECONDS        how long to wait for the redirect (default 600)\n"
     "\n"
     "Example:\n"
     "  GUSTO_CLIENT_SECRET=... gusto-connect connect --env demo --client-id abc123\n"},
    {"status",
     "Usage: gusto-connect status [--connection NAME]\n"
     "\n"
     "Check the token in GUSTO_ACCESS_TOKEN (or --token-stdin), which every command\n"
     "uses first, then every stored connection (or one) against GET /v1/token_info,\n"
     "refreshing its token when needed, and say which environment and company each\n"
     "is bound to, and the Gusto API version in use with its status (stable,\n"
     "deprecated, limited support) and final sunset date.  A token from the\n"
     "environment is shown as such, with its company and scopes (never the token).\n"
     "Exit 3 when one no longer works.\n"},
    {"disconnect",
     "Usage: gusto-connect disconnect [--connection NAME] [--no-revoke]\n"
     "\n"
     "Revoke the connection's grant at Gusto (POST /oauth/revoke: its tokens stop\n"
     "working), then forget it here (the default, or the only one, when\n"
     "--connection is not given).  It is forgotten even when the revocation fails;\n"
     "the output then says revoked: false, and why.\n"
     "\n"
     "Options:\n"
     "  --no-revoke           only forget it locally\n"},
    {"use",
     "Usage: gusto-connect use [NAME | --clear]\n"
     "\n"
     "The default connection: the one every command uses when neither --connection\n"
     "nor GUSTO_CONNECTION names one (and no GUSTO_ACCESS_TOKEN is given).  With\n"
     "NAME, make that stored connection the default; alone, print the default and\n"
     "the stored connections; --clear: no default.  Kept in the connection store.\n"
     "\n"
     "Example:\n"
     "  gusto-connect use acme-production\n"},
    {"sync",
     "Usage: gusto-connect sync [--db PATH|postgres://...] [--events FILE|-] [--webhook URL]\n"
     "                  [--dry-run] [--confirm] [--max-terminations PERCENT]\n"
     "                  [--all-connections | --connections NAME,NAME] [--worker NAME]\n"
     "                  [--lease-ttl SECONDS] [--no-progress]\n"
     "\n"
     "Mirror each company's employees (profile, job, department, manager, work\n"
     "location, home address, employment status, pay where the token may read it,\n"
     "time-off balances) into a directory store, and record what changed as events:\n"
     "employee.created, employee.updated (the changed fields, old and new; home\n"
     "address and pay masked), employee.terminated, employee.rehired.\n"
     "\n"
     "Companies: the token's company (GUSTO_ACCESS_TOKEN, or the only stored\n"
     "connection); --connections a,b: those stored connections; --all-connections:\n"
     "every stored connection.\n"
     "\n"
     "Requests: Gusto has no 'changed since' filter, so every list page is read\n"
     "(per=100, include=all_compensations,current_home_address,custom_fields,\n"
     "company_name).  Entries whose text is unchanged are skipped; a changed entry\n"
     "costs a request only for what the list lacks (a work address when no job\n"
     "carries one), and an employee missing from the list costs one GET to confirm it\n"
     "is gone.  An unchanged company costs only its list pages.  The summary gives\n"
     "the requests and requests per employee; the client stays under 200 requests a\n"
     "minute (--rate-limit) and the progress bar shows its waits.\n"
     "A per-employee phase of 20 requests or more first says how many it needs and\n"
     "the time the rate limit implies (--rate-limit, else Gusto's 200 a minute),\n"
     "e.g. \"fetching 1,200 employees' work addresses: 1,200 requests, about 6 min at\n"
     "200 requests/min\"; every phase's estimate is in the result as estimates.\n"
     "\n"
     "  --db PATH|URL         the mirror: a SQLite file (default $GUSTO_SYNC_DB, else\n"
     "                        ~/.local/share/gusto-connect/mirror.db, mode 0600; one\n"
     "                        in ~/.local/share/gusto is moved there once), or PostgreSQL\n"
     "                        as postgres://user@host:port/db (password: PGPASSWORD or\n"
     "                        ~/.pgpass, not the URL).  Not --store: that is the\n"
     "                        connection store.\n"
     "  --events FILE|-       append the events as JSON lines; - is stdout (the summary\n"
     "                        then goes to stderr)\n"
     "  --webhook URL         POST each event, signed: X-Gusto-Connect-Signature:\n"
     "                        sha256=HMAC-SHA256(key, TIMESTAMP.BODY) with\n"
     "                        X-Gusto-Connect-Timestamp and -Event-Id; the key comes\n"
     "                        from GUSTO_WEBHOOK_SECRET.  Retried on 5xx, 408, 429 and\n"
     "                        network errors; https, or http only to loopback\n"
     "  --dry-run             print the changes; write and send nothing\n"
     "  --max-terminations P  stop (exit 8, nothing written) when a sync would mark\n"
     "                        more than P% of the active employees terminated\n"
     "                        (default 20), counting the last 24 hours' departures\n"
     "  --confirm             accept such a sync\n"
     "                        (the refusal names who would go: name, email, uuid;\n"
     "                        the first 10, all in JSON as would_terminate; with\n"
     "                        --dry-run the list is shown without --confirm, exit 0,\n"
     "                        needs_confirm true)\n"
     "  --worker NAME         this worker's name in leases (default host:pid)\n"
     "  --lease-ttl SECONDS   how long a company's lease lasts unless renewed\n"
     "                        (default 300); a dead worker's lease expires after it,\n"
     "                        or at once when it was host:pid on this host.  A company\n"
     "                        leased by a live worker is skipped (exit 10); SIGINT or\n"
     "                        SIGTERM releases the lease (exit 130)\n"
     "  --no-progress         no progress bar (it is drawn only on a terminal)\n"
     "\n"
     "Safety: each company is written in one transaction (rows, events, generation)\n"
     "after every page was read, so a failure or a kill leaves the previous snapshot\n"
     "whole and a re-run makes the same events once.  Workers sharing a store take\n"
     "companies by lease: a company leased by another worker is skipped.  File and\n"
     "webhook sinks keep a cursor in the store: events not delivered are sent on the\n"
     "next run (at least once; receivers dedupe on the event id).\n"
     "\n"
     "Exit: 0 done; 12 some companies failed or events were not delivered (also\n"
     "when stdout closed under --events -: every event is still in the mirror); 8\n"
     "--confirm needed; 10 a company was skipped, a live worker holds its lease;\n"
     "130 interrupted (leases released); else gusto-connect help exit-codes.\n"
     "\n"
     "Examples:\n"
     "  gusto-connect sync --db /var/lib/gusto/mirror.db --events changes.jsonl\n"
     "  GUSTO_WEBHOOK_SECRET=... gusto-connect sync --all-connections \\\n"
     "      --db postgres://gusto@db.internal/directory --webhook https://desk/hooks\n"},
    {"profile",
     "Usage: gusto-connect profile --email ADDRESS [--db PATH|postgres://...]\n"
     "\n"
     "An employee's profile from the sync mirror, found by work or personal email\n"
     "(any case), without calling Gusto: name, emails, job title, department,\n"
     "employment status, manager (name and email), work location, time-off balance\n"
     "per policy, and how fresh the data is (freshness.synced_at, age_seconds; stale\n"
     "after a day).  Pay and home address are not shown.  JSON when piped or with\n"
     "--json, a card on a terminal.  Exit 4 when no employee has the address.\n"},
    {"mcp",
     "Usage: gusto-connect mcp --employee EMAIL [--db PATH|postgres://...] [--config FILE]\n"
     "                         [--max-age SECONDS] [--audit-log FILE]\n"
     "\n"
     "A Model Context Protocol server on stdin/stdout (one JSON-RPC message a line)\n"
     "for an AI assistant, bound by the operator to one employee: every tool answers\n"
     "for that employee only.  Tools: my_profile, my_time_off, my_employment, from the\n"
     "sync mirror; an answer older than --max-age (default 3600, or \"mcp\":\n"
     "{\"max_age_s\"} in --config) first reads that employee from Gusto with\n"
     "GUSTO_ACCESS_TOKEN or the stored connection and updates the mirror.  Pay only\n"
     "with \"mcp\": {\"allow_pay\": true}.  Each tool call writes an audit line (JSON)\n"
     "to --audit-log, else stderr.  docs/mcp.md shows client configurations.\n"},
    {"serve",
     "Usage: gusto-connect serve [--config FILE] [--port N] [--bind ADDR] [--quiet]\n"
     "       gusto-connect serve keys add NAME --grant CONNECTION[,CONNECTION|*] [--config FILE]\n"
     "                 [--employee EMAIL] [--actions NAME,...] [--read-only] [--allow-writes]\n"
     "       gusto-connect serve keys list|remove NAME [--config FILE]\n"
     "       gusto-connect serve connections add NAME --base-url URL [--company UUID]\n"
     "       gusto-connect serve connections list | remove NAME [--config FILE]\n"
     "\n"
     "A long-running HTTP service on libgusto for workflow engines and Gusto webhooks:\n"
     "  POST /actions/{name}   list-employees, create-employee, get-employee,\n"
     "                         update-employee, get-time-off-activities, call-api,\n"
     "                         create-people-batch, get-people-batch, profile\n"
     "  GET  /actions          every action with its input and output JSON Schema\n"
     "  POST /webhooks/gusto   Gusto's webhooks: the handshake's token is verified with\n"
     "                         Gusto before it signs events; X-Gusto-Signature; de-dup;\n"
     "                         an employee event syncs that employee into the mirror\n"
     "  GET  /webhooks/queue   employee syncs started by webhooks\n"
     "  POST /mcp              MCP over Streamable HTTP (docs/mcp.md); a key made with\n"
     "                         --employee answers for that employee only, and runs no\n"
     "                         action; other keys get the actions as tools (writes\n"
     "                         only with --allow-writes: a preview, then confirm);\n"
     "                         --actions and --read-only limit any key\n"
     "  GET  /healthz, GET /metrics\n"
     "\n"
     "Callers authenticate with Authorization: Bearer KEY (or X-API-Key) and pick a\n"
     "granted stored connection with a \"connection\" field or X-Gusto-Connection.\n"
     "Write actions honour an Idempotency-Key header: a retry with the same key and\n"
     "body gets the first answer (kept 24 h); another body with it gets 422.\n"
     "`keys add` prints the new key once; only its hash is stored.\n"
     "`connections add` reads the token from GUSTO_ACCESS_TOKEN or --token-stdin.\n"
     "\n"
     "Configuration (a JSON file, --config; the environment wins over it):\n"
     "  GUSTO_SERVE_BIND, GUSTO_SERVE_PORT   where to listen (127.0.0.1:8091)\n"
     "  GUSTO_SERVE_DB                       keys, grants, webhook events, sync queue\n"
     "  GUSTO_SERVE_WEBHOOK_TOKEN            a verification token set by hand\n"
     "  GUSTO_SERVE_CLIENT_ID, _CLIENT_SECRET the app whose system access token\n"
     "                                       verifies subscriptions after a handshake\n"
     "  GUSTO_SERVE_WEBHOOK_URL              this receiver's subscribed URL\n"
     "  GUSTO_SERVE_MIRROR                   the sync mirror webhooks update\n"
     "  GUSTO_STORE                          the connection store (a postgres://\n"
     "                                       URL: also serve's default database)\n"
     "SIGINT or SIGTERM stops accepting calls and finishes those in flight.\n"
     "Every key, defaults and the audit log: docs/serve.md.  The subcommands:\n"
     "'gusto-connect help serve keys', 'gusto-connect help serve connections'.\n"
     "\n"
     "Example:\n"
     "  gusto-connect serve keys add servicedesk --grant acme\n"
     "  GUSTO_SERVE_MIRROR=/var/lib/gusto/mirror.db gusto-connect serve --port 8091\n"},
    {"serve keys",
     "Usage: gusto-connect serve keys add NAME --grant CONNECTION[,CONNECTION|*] [--config FILE]\n"
     "       gusto-connect serve keys list [--config FILE]\n"
     "       gusto-connect serve keys remove NAME [--config FILE]\n"
     "\n"
     "The API keys callers of gusto-connect serve present (Authorization: Bearer KEY).\n"
     "`add` prints the new key once; only its hash is stored.  --grant names the\n"
     "stored connections the key may use (* for all).  `remove` revokes it at once.\n"},
    {"serve keys add",
     "Usage: gusto-connect serve keys add NAME --grant CONNECTION[,CONNECTION|*] [--config FILE]\n"
     "\n"
     "Make an API key for serve's callers and print it once (only its hash is kept).\n"},
    {"serve keys list",
     "Usage: gusto-connect serve keys list [--config FILE]\n"
     "\n"
     "Every API key's name, grants and creation time (never the key).\n"},
    {"serve keys remove",
     "Usage: gusto-connect serve keys remove NAME [--config FILE]\n"
     "\n"
     "Revoke an API key: calls presenting it are refused from now on.\n"},
    {"serve connections",
     "Usage: gusto-connect serve connections add NAME --base-url URL [--company UUID]\n"
     "       gusto-connect serve connections list [--config FILE]\n"
     "       gusto-connect serve connections remove NAME [--config FILE]\n"
     "\n"
     "The stored connections serve acts through.  `add` stores a token from\n"
     "GUSTO_ACCESS_TOKEN or --token-stdin (a system or long-lived token); connections\n"
     "made by gusto-connect connect are in the same store.  `remove` also drops the\n"
     "API keys' grants that named it.\n"},
    {"serve connections add",
     "Usage: gusto-connect serve connections add NAME --base-url URL [--company UUID]\n"
     "\n"
     "Store a connection from the token in GUSTO_ACCESS_TOKEN or --token-stdin.\n"},
    {"serve connections list",
     "Usage: gusto-connect serve connections list [--config FILE]\n"
     "\n"
     "The stored connections: name, base URL, company (never a token).\n"},
    {"serve connections remove",
     "Usage: gusto-connect serve connections remove NAME [--config FILE]\n"
     "\n"
     "Forget a stored connection and the API keys' grants that named it.\n"},
    {"version",
     "Usage: gusto-connect version\n"
     "\n"
     "The version of gusto-connect and libgusto, and the Gusto API version used by\n"
     "default.  On a pipe or with --json: {\"ok\":true,\"data\":{\"version\",\n"
     "\"api_version\"}}.  --version prints the same line.\n"},
    {"exit-codes",
     "Usage: gusto-connect exit-codes   (or: gusto-connect help exit-codes)\n"
     "\n" EXIT_STATUS},
    {"help",
     "Usage: gusto-connect help [COMMAND [SUBCOMMAND]]\n"
     "\n"
     "Help on a command, e.g. 'gusto-connect help employees create'.  Every command\n"
     "also takes -h/--help.\n"},
};

#define NHELP (sizeof HELP / sizeof HELP[0])

const char *cli_help_name(size_t i)
{
    return i < NHELP ? HELP[i].name : NULL;
}

/* Is `name` a direct subcommand of `parent` ("employees list" of
 * "employees"; "sync" of "")? */
static bool is_child(const char *name, const char *parent)
{
    size_t pl = strlen(parent);
    if (!*name)
        return false;
    if (pl) {
        if (strncmp(name, parent, pl) != 0 || name[pl] != ' ')
            return false;
        name += pl + 1;
    }
    return strchr(name, ' ') == NULL;
}

size_t cli_help_children(const char *parent, const char **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < NHELP; i++) {
        if (!is_child(HELP[i].name, parent))
            continue;
        if (n < max) {
            const char *last = strrchr(HELP[i].name, ' ');
            out[n] = last ? last + 1 : HELP[i].name;
        }
        n++;
    }
    return n;
}

void cli_suggest(const char *word, const char *const *words, size_t n, char *buf, size_t cap)
{
    long k = dym_closest(word, words, n);
    if (k >= 0)
        snprintf(buf, cap, "; did you mean '%s'?", words[k]);
    else if (cap)
        buf[0] = 0;
}

/* "list, create, get or update": the children of parent, for a message. */
static void children_text(const char *parent, char *buf, size_t cap)
{
    const char *kids[32];
    size_t n = cli_help_children(parent, kids, 32), off = 0;
    buf[0] = 0;
    for (size_t i = 0; i < n && i < 32 && off < cap; i++) {
        int w = snprintf(buf + off, cap - off, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ",
                         kids[i]);
        if (w < 0)
            break;
        off += (size_t)w;
    }
}

int cli_unknown_subcommand(struct cli *cli, const char *parent, const char *word)
{
    const char *kids[32];
    size_t n = cli_help_children(parent, kids, 32);
    char list[200], near[80];
    children_text(parent, list, sizeof list);
    cli_suggest(word, kids, n < 32 ? n : 32, near, sizeof near);
    cli->command = parent;
    if (!*parent)
        return out_usage(cli, "unknown command '%.60s' (expected %s%s)", word, list, near);
    return out_usage(cli, "unknown subcommand '%s %.60s' (expected %s%s)", parent, word, list,
                     near);
}

bool cli_help_known(const char *command)
{
    for (size_t i = 0; i < NHELP; i++)
        if (strcmp(HELP[i].name, command ? command : "") == 0)
            return true;
    return false;
}

int cli_help(struct cli *cli, const char *command)
{
    if (!command)
        command = "";
    for (size_t i = 0; i < NHELP; i++) {
        if (strcmp(HELP[i].name, command) == 0) {
            fputs(HELP[i].text, stdout);
            const char *kids[1];
            if (*command && strcmp(command, "help") != 0 && !cli_help_children(command, kids, 1))
                fputs("\nGlobal options, environment and exit status: gusto-connect --help\n",
                      stdout);
            return EXIT_OK;
        }
    }
    const char *names[NHELP];
    for (size_t i = 0; i < NHELP; i++)
        names[i] = HELP[i].name;
    char near[120];
    cli_suggest(command, names, NHELP, near, sizeof near);
    cli->command = "";
    return out_usage(cli, "no help for '%.60s': unknown command (run gusto-connect help for the "
                          "list%s)", command, near);
}
