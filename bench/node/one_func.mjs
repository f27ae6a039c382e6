// one_func.mjs - item 1d, standalone-function form: one Node process that makes one
// call, GustoEmbeddedCore plus employeesGet.  Args: BASE_URL TOKEN EMPLOYEE_UUID.
import { GustoEmbeddedCore } from "@gusto/embedded-api/core.js";
import { employeesGet } from "@gusto/embedded-api/funcs/employeesGet.js";
import { HTTPClient } from "@gusto/embedded-api/lib/http.js";

// SDK 0.16.0 sends X-Gusto-API-Version 2025-06-15, retired by Gusto: its
// documented beforeRequest hook sends the version libgusto sends (as
// tests/node/sdk.mjs does).
const httpClient = new HTTPClient();
httpClient.addHook("beforeRequest", (request) => {
  const next = new Request(request);
  next.headers.set("X-Gusto-API-Version", process.env.API_VERSION || "2026-12-01");
  return next;
});

const [serverURL, companyAccessAuth, employeeId] = process.argv.slice(2);
const core = new GustoEmbeddedCore({ serverURL, companyAccessAuth, httpClient });
const r = await employeesGet(core, { employeeId });
if (!r.ok || r.value.employee.uuid !== employeeId) process.exit(1);
