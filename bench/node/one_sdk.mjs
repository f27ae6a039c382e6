// one_sdk.mjs - item 1d, class form: one Node process that makes one call,
// new GustoEmbedded(...).employees.get().  Args: BASE_URL TOKEN EMPLOYEE_UUID.
import { GustoEmbedded } from "@gusto/embedded-api";
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
const gusto = new GustoEmbedded({ serverURL, companyAccessAuth, httpClient });
const r = await gusto.employees.get({ employeeId });
if (r.employee.uuid !== employeeId) process.exit(1);
