// Conformance test: drive gusto-sandbox with plain fetch over every emulated
// operation (success and failure paths) and validate every response body
// against the schema Gusto's OpenAPI 3.1 spec declares for that
// path + method + status.  Undeclared error statuses (401, 403, 406, 429, ...)
// are validated against the generic Gusto error shape.
//
//   node tests/node/conformance.mjs
//
// Env: GUSTO_SANDBOX (binary), GUSTO_SPEC (spec path), VERBOSE=1 (log requests).
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import {
  startSandbox, stopSandbox, check, pass, fail, runMain, todayYMD,
} from "./lib.mjs";

// Gusto's spec, kept in the repository (spec/SOURCE.md says where it is from).
const SPEC_PATH = process.env.GUSTO_SPEC ||
  fileURLToPath(new URL("../../spec/gusto-api-2025-06-15.openapi.yaml", import.meta.url));
const VERBOSE = !!process.env.VERBOSE;
const TOKEN = "conformance-token";
const LIMITED = "limited-token";
const LIMITED_SCOPES = "companies:read,employees:read";
const NO_SUCH = "00000000-0000-4000-8000-000000000000";

// ---- spec loading ---------------------------------------------------------

/** The published spec has multi-line single-quoted scalars whose closing
 *  quote sits at column 0, which strict YAML 1.2 parsers reject.  Indent
 *  those lone quote lines so the scalar stays inside its mapping. */
function loadSpec(path) {
  const lines = readFileSync(path, "utf8").split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (/^['"]\s*$/.test(lines[i])) {
      let j = i - 1;
      while (j >= 0 && !lines[j].trim()) j--;
      const ind = j >= 0 ? lines[j].match(/^ */)[0].length : 0;
      lines[i] = " ".repeat(ind + 2) + lines[i].trim();
    }
  }
  return YAML.parse(lines.join("\n"), { maxAliasCount: -1 });
}

const SPEC_ID = "https://gusto-sandbox.invalid/spec.json";

/** Deep copy rewriting "#/components/schemas/X" refs to SPEC_ID#/$defs/X and
 *  OpenAPI 3.0 style `nullable: true` into a type array. */
function rewrite(node) {
  if (Array.isArray(node)) return node.map(rewrite);
  if (!node || typeof node !== "object") return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === "$ref" && typeof v === "string" && v.startsWith("#/components/schemas/")) {
      out.$ref = `${SPEC_ID}#/$defs/${v.slice("#/components/schemas/".length)}`;
    } else if (k === "discriminator" || k === "x-examples" || k === "example" || k === "examples") {
      // annotations only
    } else {
      out[k] = rewrite(v);
    }
  }
  if (out.nullable === true && typeof out.type === "string") {
    out.type = [out.type, "null"];
    delete out.nullable;
  }
  return out;
}

let spec;
let ajv;
let genericErrorValidator;

/** Load the spec and register its component schemas with Ajv. */
function initSpec() {
  spec = loadSpec(SPEC_PATH);
  ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  ajv.addFormat("float", { type: "string", validate: (s) => /^-?\d+(\.\d+)?$/.test(s) });
  ajv.addFormat("binary", true);
  ajv.addSchema({ $id: SPEC_ID, $defs: rewrite(spec.components.schemas) });
  genericErrorValidator = ajv.compile(GENERIC_ERROR);
  for (const t of TEMPLATES) {
    if (!spec.paths[t]) throw new Error(`spec has no path ${t}`);
  }
}

const GENERIC_ERROR = {
  type: "object",
  required: ["errors"],
  properties: {
    errors: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        required: ["error_key", "category"],
        properties: {
          error_key: { type: "string" },
          category: { type: "string" },
          message: { type: "string" },
        },
      },
    },
  },
};

function resolve(obj) {
  let seen = 0;
  while (obj && obj.$ref && seen++ < 10) {
    let x = spec;
    for (const part of obj.$ref.replace(/^#\//, "").split("/")) {
      x = x[part.replace(/~1/g, "/").replace(/~0/g, "~")];
    }
    obj = x;
  }
  return obj;
}

const TEMPLATES = [
  "/v1/token_info",
  "/v1/companies/{company_id}",
  "/v1/companies/{company_id}/locations",
  "/v1/locations/{location_id}",
  "/v1/companies/{company_id}/employees",
  "/v1/employees/{employee_id}",
  "/v1/employees/{employee_id}/home_addresses",
  "/v1/home_addresses/{home_address_uuid}",
  "/v1/employees/{employee_id}/work_addresses",
  "/v1/work_addresses/{work_address_uuid}",
  "/v1/employees/{employee_id}/jobs",
  "/v1/jobs/{job_id}",
  "/v1/jobs/{job_id}/compensations",
  "/v1/compensations/{compensation_id}",
  "/v1/employees/{employee_uuid}/time_off_activities",
  "/v1/companies/{company_id}/people_batches",
  "/v1/people_batches/{people_batch_uuid}",
  "/v1/employees/{employee_id}/terminations",
  "/v1/employees/{employee_id}/rehire",
  "/v1/companies/{company_id}/custom_fields",
  "/v1/employees/{employee_id}/custom_fields",
  "/v1/companies/{company_uuid}/departments",
  "/v1/departments/{department_uuid}",
  "/v1/departments/{department_uuid}/add",
  "/v1/departments/{department_uuid}/remove",
  "/v1/companies/{company_uuid}/time_off_policies",
  "/v1/time_off_policies/{time_off_policy_uuid}",
  "/v1/time_off_policies/{time_off_policy_uuid}/add_employees",
  "/v1/time_off_policies/{time_off_policy_uuid}/remove_employees",
  "/v1/time_off_policies/{time_off_policy_uuid}/balance",
  "/v1/time_off_policies/{time_off_policy_uuid}/deactivate",
  "/v1/employees/{employee_id}/onboarding_status",
  "/v1/employees/{employee_id}/employment_history",
  "/v1/companies/{company_id}/pay_schedules/assignments",
  "/v1/companies/{company_id}/pay_schedules",
  "/v1/companies/{company_id}/pay_schedules/{pay_schedule_id}",
  "/v1/companies/{company_id}/pay_periods",
  "/v1/companies/{company_id}/earning_types",
  "/v1/companies/{company_uuid}/contractors",
  "/v1/contractors/{contractor_uuid}",
  "/v1/companies/{company_uuid}/signatories",
  "/v1/companies/{company_id}/federal_tax_details",
  "/v1/companies/{company_uuid}/tax_requirements/{state}",
  "/v1/companies/{company_uuid}/time_off/requests",
  "/v1/time_off/requests/{time_off_request_uuid}",
  "/v1/companies/{company_uuid}/time_off/balances",
  "/v1/companies/{company_id}/payrolls",
];
const TEMPLATE_RES = TEMPLATES.map((t) => [
  t,
  new RegExp("^" + t.replace(/\{[^}]+\}/g, "[^/]+") + "$"),
]);

function templateOf(path) {
  const p = path.split("?")[0];
  for (const [t, re] of TEMPLATE_RES) if (re.test(p)) return t;
  return null;
}

const validatorCache = new Map();
/** { validate, declared, source } for template+method+status. */
function validatorFor(template, method, status) {
  const key = `${method} ${template} ${status}`;
  if (validatorCache.has(key)) return validatorCache.get(key);
  let result;
  const op = template && spec.paths[template] && spec.paths[template][method.toLowerCase()];
  const resp = op && op.responses && resolve(op.responses[String(status)]);
  if (resp) {
    const media = resp.content && (resp.content["application/json"] || Object.values(resp.content)[0]);
    if (media && media.schema) {
      result = { validate: ajv.compile(rewrite(media.schema)), declared: true, empty: false, source: "spec" };
    } else {
      result = { validate: null, declared: true, empty: true, source: "spec (no content)" };
    }
  } else if (status >= 400) {
    result = { validate: genericErrorValidator, declared: false, empty: false, source: "generic error shape" };
  } else {
    result = { validate: null, declared: false, empty: false, source: "undeclared" };
  }
  validatorCache.set(key, result);
  return result;
}

function ajvErrors(errors) {
  const seen = new Set();
  const out = [];
  for (const e of errors || []) {
    // Array indices collapse to "*" so one bug in 50 list items prints once.
    let msg = `${(e.instancePath || "/").replace(/\/\d+(?=\/|$)/g, "/*")} ${e.message}`;
    if (e.keyword === "enum") msg += ` ${JSON.stringify(e.params.allowedValues)}`;
    if (e.keyword === "additionalProperties") msg += ` (${e.params.additionalProperty})`;
    if (seen.has(msg)) continue;
    seen.add(msg);
    out.push(msg);
  }
  const more = out.length > 12 ? [`... ${out.length - 12} more`] : [];
  return out.slice(0, 12).concat(more).join("; ");
}

// ---- HTTP -----------------------------------------------------------------

let BASE = "";
const rateNote = new Set();

/**
 * Make one request and count:
 *  - a status check when opts.expect is given (number or array of numbers),
 *  - a body check against the spec (always).
 * Returns { status, body, headers, text }.
 */
async function call(label, method, path, opts = {}) {
  const { body, token = TOKEN, headers = {}, expect, validateBody = true } = opts;
  const h = { Accept: "application/json", ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  if (body !== undefined) h["Content-Type"] = "application/json";
  const url = BASE + path;
  let res;
  try {
    res = await fetch(url, {
      method,
      headers: h,
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(10000),
    });
  } catch (e) {
    fail(`${label}: ${method} ${path}`, `request failed: ${e.message}${e.cause ? " (" + e.cause.message + ")" : ""}`);
    return { status: 0, body: undefined, headers: new Headers(), text: "" };
  }
  const text = await res.text();
  let json;
  let parseErr = null;
  if (text.length) {
    try { json = JSON.parse(text); } catch (e) { parseErr = e.message; }
  }
  if (VERBOSE) console.log(`# ${method} ${path} -> ${res.status} ${text.slice(0, 200)}`);
  const status = res.status;
  const template = templateOf(path);
  const reqDesc = `${method} ${path}${body !== undefined ? " body=" + (typeof body === "string" ? body : JSON.stringify(body)).slice(0, 160) : ""}`;

  if (expect !== undefined) {
    const ok = Array.isArray(expect) ? expect.includes(status) : status === expect;
    check(`${label}: status ${Array.isArray(expect) ? expect.join("|") : expect}`, ok,
      () => `${reqDesc} -> got ${status}, body ${text.slice(0, 300)}`);
  }
  if (validateBody) {
    const name = `${label}: ${method} ${template || path} ${status} body matches spec`;
    const v = validatorFor(template, method, status);
    const ctype = res.headers.get("content-type") || "";
    if (status === 204 || v.empty) {
      check(name, text.length === 0 || status !== 204,
        () => `${reqDesc} -> ${status} should have an empty body, got ${text.slice(0, 200)}`);
    } else if (!v.declared && status < 400) {
      fail(name, `${reqDesc} -> status ${status} is not declared by the spec for ${method} ${template}`);
    } else if (parseErr || json === undefined) {
      fail(name, `${reqDesc} -> ${status}: body is not JSON (${parseErr || "empty"}): ${text.slice(0, 200)}`);
    } else if (!/application\/json/i.test(ctype)) {
      fail(name, `${reqDesc} -> ${status}: Content-Type is ${JSON.stringify(ctype)}, want application/json`);
    } else if (v.validate(json)) {
      pass(name);
    } else {
      fail(name, `${reqDesc} -> ${status} vs ${v.source}: ${ajvErrors(v.validate.errors)}`);
    }
  }
  return { status, body: json, headers: res.headers, text };
}

function errorHas(res, { key, category } = {}) {
  const errs = (res.body && Array.isArray(res.body.errors) && res.body.errors) || [];
  const flat = [];
  const walk = (a) => a.forEach((e) => { flat.push(e); if (Array.isArray(e.errors)) walk(e.errors); });
  walk(errs);
  return flat.some((e) => (!key || e.error_key === key) && (!category || e.category === category));
}

function expectError(label, res, want) {
  check(`${label}: error names ${want.key ? "key=" + want.key : ""}${want.category ? " category=" + want.category : ""}`,
    errorHas(res, want), () => `got ${JSON.stringify(res.body).slice(0, 300)}`);
}

/** PUT the object's own current values back: a no-op must keep the version. */
async function noopPut(label, path, obj, fields) {
  if (!obj || !obj.version) return;
  const body = { version: obj.version };
  for (const f of fields) body[f] = obj[f];
  const r = await call(`${label} no-op`, "PUT", path, { body, expect: 200, validateBody: false });
  check(`${label} with unchanged values keeps the version`, r.body && r.body.version === obj.version,
    () => `PUT ${path} ${JSON.stringify(body)} -> version ${obj.version} became ${r.body && r.body.version}`);
  return r.body;
}

const q = (params) => {
  const s = new URLSearchParams(params).toString();
  return s ? `?${s}` : "";
};

// ---- scenario -------------------------------------------------------------

async function scenario() {
  {
    const v = validatorFor("/v1/employees/{employee_id}", "GET", 200);
    const okGood = v.validate({ uuid: "8f5d3b36-3c0b-4ad4-9d9c-6b2d3f0a9e11", first_name: "A", last_name: "B", payment_method: "Check" });
    const okBad = v.validate({ uuid: "8f5d3b36-3c0b-4ad4-9d9c-6b2d3f0a9e11", first_name: "A", last_name: "B", payment_method: "Cash" });
    const okErr = genericErrorValidator({ errors: [{ error_key: "x" }] });
    check("schema self-test: Employee schema accepts a minimal employee and rejects a bad enum, generic error rejects missing category",
      okGood && !okBad && !okErr, `good=${okGood} bad=${okBad} err=${okErr}`);
  }
  // token info / company
  const ti = await call("token_info", "GET", "/v1/token_info", { expect: 200 });
  const company = ti.body && ti.body.resource && ti.body.resource.uuid;
  check("token_info: resource is a Company with a uuid",
    ti.body && ti.body.resource && ti.body.resource.type === "Company" && typeof company === "string",
    () => JSON.stringify(ti.body));
  if (!company) throw new Error("no company uuid from /v1/token_info; cannot continue");
  check("token_info: full token has every scope the scenario needs",
    ["companies:read", "employees:read", "jobs:read", "compensations:read"].every((s) => String(ti.body.scope).split(" ").includes(s)),
    () => `scope=${ti.body.scope}`);

  const api = ti.headers.get("x-gusto-api-version");
  // No header: the sandbox's default, the newest version served (2026-12-01).
  check("response echoes X-Gusto-API-Version 2026-12-01", api === "2026-12-01", `got ${api}`);

  const co = await call("company.get", "GET", `/v1/companies/${company}`, { expect: 200 });
  check("company.get: uuid matches token resource", co.body && co.body.uuid === company, () => JSON.stringify(co.body).slice(0, 200));
  await call("company.get unknown", "GET", `/v1/companies/${NO_SUCH}`, { expect: 404 });
  await call("company.get malformed id", "GET", `/v1/companies/not-a-uuid`, { expect: 404 });

  // ---- locations
  const locs = await call("locations.list", "GET", `/v1/companies/${company}/locations`, { expect: 200 });
  check("locations.list: non-empty array", Array.isArray(locs.body) && locs.body.length > 0, () => locs.text.slice(0, 200));
  check("locations.list: no pagination headers without page/per", !locs.headers.get("x-total-count") && !locs.headers.get("x-page"),
    () => `x-total-count=${locs.headers.get("x-total-count")}`);
  const nLocs = Array.isArray(locs.body) ? locs.body.length : 0;
  const lp = await call("locations.list page", "GET", `/v1/companies/${company}/locations${q({ page: 1, per: 1 })}`, { expect: 200 });
  check("locations.list page=1&per=1: one item and X-Total-Count",
    Array.isArray(lp.body) && lp.body.length === Math.min(1, nLocs) && lp.headers.get("x-total-count") === String(nLocs),
    () => `len=${lp.body && lp.body.length} x-total-count=${lp.headers.get("x-total-count")} want ${nLocs}`);
  await call("locations.list unknown company", "GET", `/v1/companies/${NO_SUCH}/locations`, { expect: 404 });

  const newLocBody = { street_1: "1 Conformance Way", street_2: null, city: "Denver", state: "CO", zip: "80202", phone_number: "3035550100" };
  const nl = await call("locations.create", "POST", `/v1/companies/${company}/locations`, { body: newLocBody, expect: 201 });
  const loc = nl.body || {};
  check("locations.create: echoes fields, defaults country USA, has version",
    loc.street_1 === newLocBody.street_1 && loc.city === "Denver" && loc.state === "CO" && loc.country === "USA" && typeof loc.version === "string" && loc.version.length > 0,
    () => JSON.stringify(loc));
  const badLoc = await call("locations.create invalid", "POST", `/v1/companies/${company}/locations`,
    { body: { street_1: "2 Bad St", city: "Denver", state: "CO", zip: "abcde", phone_number: "123" }, expect: 422 });
  expectError("locations.create invalid", badLoc, { key: "phone_number" });
  expectError("locations.create invalid", badLoc, { key: "zip" });
  const badState = await call("locations.create bad state", "POST", `/v1/companies/${company}/locations`,
    { body: { ...newLocBody, state: "Colorado" }, expect: 422 });
  expectError("locations.create bad state", badState, { key: "state" });
  await call("locations.create missing street_1", "POST", `/v1/companies/${company}/locations`,
    { body: { city: "Denver", state: "CO", zip: "80202", phone_number: "3035550100" }, expect: 422 });
  await call("locations.create unknown company", "POST", `/v1/companies/${NO_SUCH}/locations`, { body: newLocBody, expect: 404 });

  if (loc.uuid) {
    const lg = await call("locations.get", "GET", `/v1/locations/${loc.uuid}`, { expect: 200 });
    check("locations.get: same version as create", lg.body && lg.body.version === loc.version, () => `${lg.body && lg.body.version} vs ${loc.version}`);
    const lu = await call("locations.update", "PUT", `/v1/locations/${loc.uuid}`, { body: { version: loc.version, city: "Boulder", zip: "80301" }, expect: 200 });
    check("locations.update: city changed and version bumped",
      lu.body && lu.body.city === "Boulder" && lu.body.zip === "80301" && lu.body.version && lu.body.version !== loc.version,
      () => JSON.stringify(lu.body));
    const ls = await call("locations.update stale version", "PUT", `/v1/locations/${loc.uuid}`, { body: { version: loc.version, city: "Golden" }, expect: 409 });
    expectError("locations.update stale version", ls, { category: "invalid_resource_version" });
    await call("locations.update invalid zip", "PUT", `/v1/locations/${loc.uuid}`, { body: { version: lu.body && lu.body.version, zip: "1" }, expect: 422 });
    const after = await call("locations.get after failed updates", "GET", `/v1/locations/${loc.uuid}`, { expect: 200 });
    check("locations: failed updates changed nothing", after.body && after.body.city === "Boulder" && after.body.zip === "80301",
      () => JSON.stringify(after.body));
    loc.version = lu.body && lu.body.version;
    if (lu.body) await noopPut("locations.update", `/v1/locations/${loc.uuid}`, lu.body, ["city", "zip"]);
  }
  await call("locations.get unknown", "GET", `/v1/locations/${NO_SUCH}`, { expect: 404 });
  await call("locations.update unknown", "PUT", `/v1/locations/${NO_SUCH}`, { body: { version: "x", city: "X" }, expect: 404 });

  // ---- employees: list, filters, pagination
  const all = await call("employees.list", "GET", `/v1/companies/${company}/employees`, { expect: 200 });
  const emps = Array.isArray(all.body) ? all.body : [];
  check("employees.list: demo seed has >= 40 employees", emps.length >= 40, `got ${emps.length}`);
  check("employees.list: no pagination headers without page/per",
    ["x-page", "x-per-page", "x-total-count", "x-total-pages"].every((h) => all.headers.get(h) === null),
    () => ["x-page", "x-per-page", "x-total-count", "x-total-pages"].map((h) => `${h}=${all.headers.get(h)}`).join(" "));
  check("employees.list: every employee belongs to the company", emps.every((e) => e.company_uuid === company),
    () => emps.filter((e) => e.company_uuid !== company).map((e) => e.uuid).slice(0, 3).join(","));

  const per = 10;
  const pages = Math.ceil(emps.length / per);
  const seen = [];
  let pagingOk = true;
  for (let page = 1; page <= pages + 1; page++) {
    const r = await call(`employees.list page=${page}`, "GET", `/v1/companies/${company}/employees${q({ page, per })}`,
      { expect: 200, validateBody: page <= 2 || page === pages + 1 });
    const hdr = (n) => r.headers.get(n);
    const wantLen = page <= pages ? Math.min(per, emps.length - (page - 1) * per) : 0;
    const ok = hdr("x-page") === String(page) && hdr("x-per-page") === String(per) &&
      hdr("x-total-count") === String(emps.length) && hdr("x-total-pages") === String(pages) &&
      Array.isArray(r.body) && r.body.length === wantLen;
    if (!ok) {
      pagingOk = false;
      fail(`employees.list page=${page}&per=${per}: headers and length`,
        `X-Page=${hdr("x-page")} X-Per-Page=${hdr("x-per-page")} X-Total-Count=${hdr("x-total-count")} X-Total-Pages=${hdr("x-total-pages")} len=${r.body && r.body.length}; want ${page}/${per}/${emps.length}/${pages}/len ${wantLen}`);
    }
    if (Array.isArray(r.body)) seen.push(...r.body.map((e) => e.uuid));
  }
  if (pagingOk) pass(`employees.list page/per: X-Page/X-Per-Page/X-Total-Count/X-Total-Pages and page sizes right over ${pages + 1} pages`);
  check("employees.list page/per: pages cover the full list exactly once",
    seen.length === emps.length && new Set(seen).size === emps.length && emps.every((e) => seen.includes(e.uuid)),
    `pages gave ${seen.length} (${new Set(seen).size} distinct), list gave ${emps.length}`);
  const perOnly = await call("employees.list per only", "GET", `/v1/companies/${company}/employees${q({ per: 5 })}`, { expect: 200, validateBody: false });
  check("employees.list per=5 alone: 5 items, X-Page 1, X-Per-Page 5",
    Array.isArray(perOnly.body) && perOnly.body.length === 5 && perOnly.headers.get("x-page") === "1" && perOnly.headers.get("x-per-page") === "5",
    () => `len=${perOnly.body && perOnly.body.length} x-page=${perOnly.headers.get("x-page")} x-per-page=${perOnly.headers.get("x-per-page")}`);
  const pageOnly = await call("employees.list page only", "GET", `/v1/companies/${company}/employees${q({ page: 1 })}`, { expect: 200, validateBody: false });
  check("employees.list page=1 alone: default per 25 with headers",
    pageOnly.headers.get("x-per-page") === "25" && Array.isArray(pageOnly.body) && pageOnly.body.length === Math.min(25, emps.length),
    () => `x-per-page=${pageOnly.headers.get("x-per-page")} len=${pageOnly.body && pageOnly.body.length}`);

  const target = emps.find((e) => !e.terminated && e.onboarded) || emps[0];
  if (target) {
    const term = target.last_name;
    const s = await call("employees.list search_term", "GET", `/v1/companies/${company}/employees${q({ search_term: term.toLowerCase() })}`, { expect: 200 });
    const sb = Array.isArray(s.body) ? s.body : [];
    check(`employees.list search_term=${term.toLowerCase()}: finds target, all results match`,
      sb.some((e) => e.uuid === target.uuid) &&
      sb.every((e) => [e.first_name, e.last_name, e.preferred_first_name, e.middle_initial].filter(Boolean).join(" ").toLowerCase().includes(term.toLowerCase())),
      () => `results: ${sb.map((e) => e.first_name + " " + e.last_name).join(", ")}`);
  }
  const nomatch = await call("employees.list search_term no match", "GET", `/v1/companies/${company}/employees${q({ search_term: "zzqqxxnomatch" })}`, { expect: 200 });
  check("employees.list search_term no match: empty array", Array.isArray(nomatch.body) && nomatch.body.length === 0, () => nomatch.text.slice(0, 100));

  const tt = await call("employees.list terminated=true", "GET", `/v1/companies/${company}/employees${q({ terminated: true })}`, { expect: 200 });
  const tf = await call("employees.list terminated=false", "GET", `/v1/companies/${company}/employees${q({ terminated: false })}`, { expect: 200 });
  const ttb = Array.isArray(tt.body) ? tt.body : [];
  const tfb = Array.isArray(tf.body) ? tf.body : [];
  check("employees.list terminated=true: non-empty, only employees with a termination",
    ttb.length > 0 && ttb.every((e) => e.terminated === true || (Array.isArray(e.terminations) && e.terminations.length > 0)),
    () => `got ${ttb.length}: ${ttb.filter((e) => !e.terminated).map((e) => e.uuid).slice(0, 3)}`);
  check("employees.list terminated=false: only non-terminated, disjoint from terminated=true",
    tfb.every((e) => e.terminated === false) && tfb.every((e) => !ttb.some((t) => t.uuid === e.uuid)),
    () => `${tfb.filter((e) => e.terminated).length} terminated in terminated=false`);

  const asc = await call("employees.list sort_by=name:asc", "GET", `/v1/companies/${company}/employees${q({ sort_by: "name:asc" })}`, { expect: 200, validateBody: false });
  const desc = await call("employees.list sort_by=name:desc", "GET", `/v1/companies/${company}/employees${q({ sort_by: "name:desc" })}`, { expect: 200 });
  if (Array.isArray(asc.body) && Array.isArray(desc.body)) {
    const a = asc.body.map((e) => e.uuid);
    const d = desc.body.map((e) => e.uuid);
    check("employees.list sort_by=name:desc reverses name:asc", JSON.stringify(a) === JSON.stringify([...d].reverse()) && a.length === emps.length,
      () => `asc first=${asc.body[0] && asc.body[0].last_name} desc first=${desc.body[0] && desc.body[0].last_name}`);
  }
  await call("employees.list bad sort_by", "GET", `/v1/companies/${company}/employees${q({ sort_by: "salary" })}`, { expect: 422 });
  await call("employees.list sort_by with search_term", "GET", `/v1/companies/${company}/employees${q({ sort_by: "name", search_term: "a" })}`, { expect: 422 });
  const cd = await call("employees.list sort_by=created_at:desc,name", "GET", `/v1/companies/${company}/employees${q({ sort_by: "created_at:desc,name" })}`, { expect: 200, validateBody: false });
  check("employees.list sort_by=created_at:desc,name: same set of employees", Array.isArray(cd.body) && cd.body.length === emps.length, () => `len=${cd.body && cd.body.length}`);

  const ob = await call("employees.list onboarded=true", "GET", `/v1/companies/${company}/employees${q({ onboarded: true })}`, { expect: 200, validateBody: false });
  const nob = await call("employees.list onboarded=false", "GET", `/v1/companies/${company}/employees${q({ onboarded: false })}`, { expect: 200, validateBody: false });
  check("employees.list onboarded=true/false: partition by onboarded",
    Array.isArray(ob.body) && Array.isArray(nob.body) && ob.body.every((e) => e.onboarded === true) && nob.body.every((e) => e.onboarded === false) &&
    ob.body.length + nob.body.length === emps.length && ob.body.length > 0,
    () => `onboarded=true ${ob.body && ob.body.length}, false ${nob.body && nob.body.length}, total ${emps.length}`);
  const oa = await call("employees.list onboarded_active=true", "GET", `/v1/companies/${company}/employees${q({ onboarded_active: true })}`, { expect: 200, validateBody: false });
  check("employees.list onboarded_active=true: onboarded and not terminated",
    Array.isArray(oa.body) && oa.body.length > 0 && oa.body.every((e) => e.onboarded && !e.terminated),
    () => `bad: ${(oa.body || []).filter((e) => !e.onboarded || e.terminated).map((e) => e.uuid).slice(0, 3)}`);
  const ttd = await call("employees.list terminated_today=true", "GET", `/v1/companies/${company}/employees${q({ terminated_today: true })}`, { expect: 200, validateBody: false });
  check("employees.list terminated_today=true: subset of terminated=true, all terminated",
    Array.isArray(ttd.body) && ttd.body.every((e) => e.terminated === true) && ttd.body.every((e) => ttb.some((t) => t.uuid === e.uuid)),
    () => `len=${ttd.body && ttd.body.length}`);
  if (emps.length >= 3) {
    const want = [emps[0].uuid, emps[2].uuid];
    const ur = await call("employees.list uuids", "GET", `/v1/companies/${company}/employees${q({ uuids: want.join(",") })}`, { expect: 200, validateBody: false });
    check("employees.list uuids=a,b: exactly those two", Array.isArray(ur.body) && ur.body.length === 2 && want.every((u) => ur.body.some((e) => e.uuid === u)),
      () => `got ${(ur.body || []).map((e) => e.uuid)}`);
  }
  const locCount = new Map();
  for (const e of emps) for (const j of e.jobs || []) if (j.primary && j.location_uuid) locCount.set(j.location_uuid, (locCount.get(j.location_uuid) || 0) + 1);
  const [someLoc] = [...locCount.keys()];
  if (someLoc) {
    const lr = await call("employees.list location_uuid", "GET", `/v1/companies/${company}/employees${q({ location_uuid: someLoc })}`, { expect: 200, validateBody: false });
    check("employees.list location_uuid: non-empty, all have a job at that location",
      Array.isArray(lr.body) && lr.body.length > 0 && lr.body.every((e) => (e.jobs || []).some((j) => j.location_uuid === someLoc)),
      () => `len=${lr.body && lr.body.length}`);
  }

  const inc = await call("employees.list include", "GET",
    `/v1/companies/${company}/employees${q({ include: "current_home_address,all_home_addresses,all_compensations,company_name,custom_fields,portal_invitations", page: 1, per: 5 })}`,
    { expect: 200 });
  if (Array.isArray(inc.body)) {
    check("employees.list include=current_home_address,all_home_addresses: objects present",
      inc.body.length > 0 && inc.body.every((e) => Array.isArray(e.all_home_addresses)) && inc.body.some((e) => e.current_home_address && e.current_home_address.street_1),
      () => JSON.stringify(inc.body[0]).slice(0, 300));
    check("employees.list include=company_name,custom_fields,portal_invitations: fields present",
      inc.body.length > 0 && inc.body.every((e) => typeof e.company_name === "string" && Array.isArray(e.custom_fields) && "member_portal_invitation_status" in e && "partner_portal_invitation_sent" in e),
      () => JSON.stringify(inc.body[0]).slice(0, 300));
  }
  const noinc = await call("employees.list without include", "GET", `/v1/companies/${company}/employees${q({ page: 1, per: 5 })}`, { expect: 200, validateBody: false });
  if (Array.isArray(noinc.body)) {
    check("employees.list without include: no current_home_address/custom_fields/company_name",
      noinc.body.every((e) => e.current_home_address === undefined && e.custom_fields === undefined && e.company_name === undefined && e.all_home_addresses === undefined),
      () => Object.keys(noinc.body[0] || {}).join(","));
  }
  await call("employees.list unknown company", "GET", `/v1/companies/${NO_SUCH}/employees`, { expect: 404 });

  // ---- employees: create / get / update / delete
  const newEmp = { first_name: "Ada", last_name: "Conformance", middle_initial: "B", email: "ada.conformance@example.com", date_of_birth: "1990-12-10", ssn: "123456789" };
  const ce = await call("employees.create", "POST", `/v1/companies/${company}/employees`, { body: newEmp, expect: 201 });
  const emp = ce.body || {};
  check("employees.create: fields echoed, version set, SSN not echoed",
    emp.first_name === "Ada" && emp.last_name === "Conformance" && emp.company_uuid === company && typeof emp.version === "string" &&
    emp.has_ssn === true && (emp.ssn === "" || emp.ssn === undefined) && emp.onboarded === false,
    () => JSON.stringify(emp).slice(0, 400));
  const badSsn = await call("employees.create bad ssn", "POST", `/v1/companies/${company}/employees`, { body: { first_name: "X", last_name: "Y", ssn: "12-34" }, expect: 422 });
  expectError("employees.create bad ssn", badSsn, { key: "ssn", category: "invalid_attribute_value" });
  const noLast = await call("employees.create missing last_name", "POST", `/v1/companies/${company}/employees`, { body: { first_name: "X" }, expect: 422 });
  expectError("employees.create missing last_name", noLast, { key: "last_name" });
  await call("employees.create bad email", "POST", `/v1/companies/${company}/employees`, { body: { first_name: "X", last_name: "Y", email: "not-an-email" }, expect: 422 });
  await call("employees.create bad date_of_birth", "POST", `/v1/companies/${company}/employees`, { body: { first_name: "X", last_name: "Y", date_of_birth: "1990-02-30" }, expect: 422 });
  await call("employees.create wrong type first_name", "POST", `/v1/companies/${company}/employees`, { body: { first_name: 123, last_name: "Y" }, expect: 422 });
  await call("employees.create self_onboarding without email", "POST", `/v1/companies/${company}/employees`, { body: { first_name: "X", last_name: "Y", self_onboarding: true }, expect: 422 });
  await call("employees.create body is an array", "POST", `/v1/companies/${company}/employees`, { body: [], expect: [400, 422] });
  await call("employees.create malformed JSON", "POST", `/v1/companies/${company}/employees`, { body: "{not json", expect: [400, 422] });
  await call("employees.create unknown company", "POST", `/v1/companies/${NO_SUCH}/employees`, { body: newEmp, expect: 404 });

  if (emp.uuid) {
    const g = await call("employees.get", "GET", `/v1/employees/${emp.uuid}`, { expect: 200 });
    check("employees.get: same uuid and version as create", g.body && g.body.uuid === emp.uuid && g.body.version === emp.version,
      () => `${g.body && g.body.version} vs ${emp.version}`);
    const u = await call("employees.update", "PUT", `/v1/employees/${emp.uuid}`, { body: { version: emp.version, first_name: "Augusta", preferred_first_name: "Ada" }, expect: 200 });
    check("employees.update: first_name changed and version bumped",
      u.body && u.body.first_name === "Augusta" && u.body.preferred_first_name === "Ada" && u.body.last_name === "Conformance" && u.body.version !== emp.version,
      () => JSON.stringify(u.body).slice(0, 300));
    const st = await call("employees.update stale version", "PUT", `/v1/employees/${emp.uuid}`, { body: { version: emp.version, first_name: "Stale" }, expect: 409 });
    expectError("employees.update stale version", st, { category: "invalid_resource_version" });
    const cur = u.body && u.body.version;
    const bs = await call("employees.update bad ssn", "PUT", `/v1/employees/${emp.uuid}`, { body: { version: cur, ssn: "12-34" }, expect: 422 });
    expectError("employees.update bad ssn", bs, { key: "ssn" });
    await call("employees.update missing version", "PUT", `/v1/employees/${emp.uuid}`, { body: { first_name: "NoVersion" }, expect: [409, 422] });
    const g2 = await call("employees.get after failed updates", "GET", `/v1/employees/${emp.uuid}`, { expect: 200 });
    check("employees: failed updates changed nothing", g2.body && g2.body.first_name === "Augusta" && g2.body.version === cur,
      () => JSON.stringify(g2.body).slice(0, 200));
    emp.version = cur;

    const noop = await call("employees.update no-op", "PUT", `/v1/employees/${emp.uuid}`, { body: { version: cur, first_name: "Augusta" }, expect: 200, validateBody: false });
    check("employees.update with unchanged values keeps the version (versions change only when attributes change)",
      noop.body && noop.body.version === cur, () => `version ${cur} -> ${noop.body && noop.body.version}`);
    emp.version = (noop.body && noop.body.version) || cur;

    // Optimistic concurrency: N concurrent PUTs holding the same version -> exactly one wins.
    const racers = await Promise.all([0, 1, 2, 3, 4].map((i) =>
      call(`employees.update race ${i}`, "PUT", `/v1/employees/${emp.uuid}`, { body: { version: emp.version, last_name: `Racer${i}` }, validateBody: i === 0 })));
    const wins = racers.filter((r) => r.status === 200).length;
    const conflicts = racers.filter((r) => r.status === 409).length;
    check("employees.update race: 5 concurrent PUTs with one version -> exactly one 200, four 409",
      wins === 1 && conflicts === 4, `statuses ${racers.map((r) => r.status).join(",")}`);
    const winner = racers.find((r) => r.status === 200);
    if (winner) emp.version = winner.body.version;
  }
  if (target) {
    await call("employees.get include=custom_fields,all_compensations,current_home_address", "GET",
      `/v1/employees/${target.uuid}${q({ include: "custom_fields,all_compensations,current_home_address" })}`, { expect: 200 });
  }
  await call("employees.get unknown", "GET", `/v1/employees/${NO_SUCH}`, { expect: 404 });
  await call("employees.update unknown", "PUT", `/v1/employees/${NO_SUCH}`, { body: { version: "x", first_name: "X" }, expect: 404 });

  const tmp = await call("employees.create (to delete)", "POST", `/v1/companies/${company}/employees`, { body: { first_name: "Temp", last_name: "Deleteme" }, expect: 201 });
  if (tmp.body && tmp.body.uuid) {
    await call("employees.delete", "DELETE", `/v1/employees/${tmp.body.uuid}`, { expect: 204 });
    await call("employees.get after delete", "GET", `/v1/employees/${tmp.body.uuid}`, { expect: 404 });
    await call("employees.delete again", "DELETE", `/v1/employees/${tmp.body.uuid}`, { expect: 404 });
  }
  const onboarded = emps.find((e) => e.onboarded);
  if (onboarded) {
    const od = await call("employees.delete onboarded", "DELETE", `/v1/employees/${onboarded.uuid}`, { expect: 422 });
    expectError("employees.delete onboarded", od, { category: "invalid_operation" });
  }

  // ---- home addresses
  const E = target && target.uuid;
  if (E) {
    const hl = await call("home_addresses.list", "GET", `/v1/employees/${E}/home_addresses`, { expect: 200 });
    const hlb = Array.isArray(hl.body) ? hl.body : [];
    check("home_addresses.list: non-empty, exactly one active, all belong to employee",
      hlb.length > 0 && hlb.filter((a) => a.active).length === 1 && hlb.every((a) => a.employee_uuid === E),
      () => hl.text.slice(0, 300));
    const future = todayYMD(400);
    const hc = await call("home_addresses.create", "POST", `/v1/employees/${E}/home_addresses`,
      { body: { street_1: "10 Elm St", street_2: null, city: "Austin", state: "TX", zip: "73301", effective_date: future, courtesy_withholding: true }, expect: 201 });
    const ha = hc.body || {};
    check("home_addresses.create: fields echoed, future-dated address not active",
      ha.street_1 === "10 Elm St" && ha.state === "TX" && ha.effective_date === future && ha.courtesy_withholding === true && ha.active === false && ha.employee_uuid === E && typeof ha.version === "string",
      () => JSON.stringify(ha));
    const hbad = await call("home_addresses.create invalid", "POST", `/v1/employees/${E}/home_addresses`,
      { body: { street_1: "1 X", city: "Austin", state: "ZZ", zip: "7", effective_date: future }, expect: 422 });
    expectError("home_addresses.create invalid", hbad, { key: "zip" });
    await call("home_addresses.create unknown employee", "POST", `/v1/employees/${NO_SUCH}/home_addresses`,
      { body: { street_1: "1 X", city: "Austin", state: "TX", zip: "73301" }, expect: 404 });
    if (ha.uuid) {
      const hg = await call("home_addresses.get", "GET", `/v1/home_addresses/${ha.uuid}`, { expect: 200 });
      check("home_addresses.get: same version", hg.body && hg.body.version === ha.version, () => JSON.stringify(hg.body));
      const hu = await call("home_addresses.update", "PUT", `/v1/home_addresses/${ha.uuid}`, { body: { version: ha.version, street_2: "Apt 5", zip: "73344" }, expect: 200 });
      check("home_addresses.update: street_2 changed and version bumped",
        hu.body && hu.body.street_2 === "Apt 5" && hu.body.zip === "73344" && hu.body.version !== ha.version, () => JSON.stringify(hu.body));
      // A stale version is a 422 on addresses, jobs and compensations: the spec lists no 409 there (docs/sandbox.md, "Stale versions").
      const hs = await call("home_addresses.update stale version", "PUT", `/v1/home_addresses/${ha.uuid}`, { body: { version: ha.version, city: "Dallas" }, expect: 422 });
      expectError("home_addresses.update stale version", hs, { category: "invalid_resource_version" });
      await call("home_addresses.update invalid zip", "PUT", `/v1/home_addresses/${ha.uuid}`, { body: { version: hu.body && hu.body.version, zip: "12" }, expect: 422 });
      if (hu.body) await noopPut("home_addresses.update", `/v1/home_addresses/${ha.uuid}`, hu.body, ["street_2", "zip"]);
      await call("home_addresses.delete (future address)", "DELETE", `/v1/home_addresses/${ha.uuid}`, { expect: 204 });
      await call("home_addresses.get after delete", "GET", `/v1/home_addresses/${ha.uuid}`, { expect: 404 });
    }
    const active = hlb.find((a) => a.active);
    if (active) {
      await call("home_addresses.delete active address", "DELETE", `/v1/home_addresses/${active.uuid}`, { expect: 422 });
      const today = todayYMD(0);
      const hn = await call("home_addresses.create effective today", "POST", `/v1/employees/${E}/home_addresses`,
        { body: { street_1: "99 Moved St", city: "Reno", state: "NV", zip: "89501", effective_date: today }, expect: 201 });
      if (hn.body && hn.body.uuid) {
        check("home_addresses.create effective today: new address is active", hn.body.active === true, () => JSON.stringify(hn.body));
        const hl2 = await call("home_addresses.list after move", "GET", `/v1/employees/${E}/home_addresses`, { expect: 200, validateBody: false });
        const l2 = Array.isArray(hl2.body) ? hl2.body : [];
        check("home_addresses.list after move: only the new address is active, the old one is not",
          l2.filter((a) => a.active).map((a) => a.uuid).join() === hn.body.uuid && l2.some((a) => a.uuid === active.uuid && a.active === false),
          () => JSON.stringify(l2.map((a) => [a.effective_date, a.active])));
        const ge = await call("employees.get include=current_home_address after move", "GET", `/v1/employees/${E}${q({ include: "current_home_address" })}`, { expect: 200 });
        check("employees.get current_home_address follows the move",
          ge.body && ge.body.current_home_address && ge.body.current_home_address.street_1 === "99 Moved St",
          () => JSON.stringify(ge.body && ge.body.current_home_address));
      }
    }
    await call("home_addresses.list unknown employee", "GET", `/v1/employees/${NO_SUCH}/home_addresses`, { expect: 404 });
    await call("home_addresses.get unknown", "GET", `/v1/home_addresses/${NO_SUCH}`, { expect: 404 });
    await call("home_addresses.update unknown", "PUT", `/v1/home_addresses/${NO_SUCH}`, { body: { version: "x", city: "X" }, expect: 404 });
    await call("home_addresses.delete unknown", "DELETE", `/v1/home_addresses/${NO_SUCH}`, { expect: 404 });

    // ---- work addresses
    const wl = await call("work_addresses.list", "GET", `/v1/employees/${E}/work_addresses`, { expect: 200 });
    const wlb = Array.isArray(wl.body) ? wl.body : [];
    check("work_addresses.list: non-empty, exactly one active",
      wlb.length > 0 && wlb.filter((a) => a.active).length === 1 && wlb.every((a) => a.employee_uuid === E),
      () => wl.text.slice(0, 300));
    if (loc.uuid) {
      const wc = await call("work_addresses.create", "POST", `/v1/employees/${E}/work_addresses`, { body: { location_uuid: loc.uuid, effective_date: future }, expect: 201 });
      const wa = wc.body || {};
      check("work_addresses.create: copies the location address, future-dated not active",
        wa.location_uuid === loc.uuid && wa.street_1 === newLocBody.street_1 && wa.city === "Boulder" && wa.effective_date === future && wa.active === false,
        () => JSON.stringify(wa));
      if (wa.uuid) {
        const wg = await call("work_addresses.get", "GET", `/v1/work_addresses/${wa.uuid}`, { expect: 200 });
        check("work_addresses.get: same version", wg.body && wg.body.version === wa.version, () => JSON.stringify(wg.body));
        const f2 = todayYMD(410);
        const wu = await call("work_addresses.update", "PUT", `/v1/work_addresses/${wa.uuid}`, { body: { version: wa.version, effective_date: f2 }, expect: 200 });
        check("work_addresses.update: effective_date changed and version bumped",
          wu.body && wu.body.effective_date === f2 && wu.body.version !== wa.version, () => JSON.stringify(wu.body));
        const ws = await call("work_addresses.update stale version", "PUT", `/v1/work_addresses/${wa.uuid}`, { body: { version: wa.version, effective_date: future }, expect: 422 });
        expectError("work_addresses.update stale version", ws, { category: "invalid_resource_version" });
        if (wu.body) {
          const nw = await noopPut("work_addresses.update", `/v1/work_addresses/${wa.uuid}`, wu.body, ["effective_date", "location_uuid"]);
          if (nw && nw.version) wu.body.version = nw.version;
        }
        await call("work_addresses.update unknown location", "PUT", `/v1/work_addresses/${wa.uuid}`, { body: { version: wu.body && wu.body.version, location_uuid: NO_SUCH }, expect: 422 });
        await call("work_addresses.delete (future address)", "DELETE", `/v1/work_addresses/${wa.uuid}`, { expect: 204 });
        await call("work_addresses.get after delete", "GET", `/v1/work_addresses/${wa.uuid}`, { expect: 404 });
      }
    }
    await call("work_addresses.create unknown location", "POST", `/v1/employees/${E}/work_addresses`, { body: { location_uuid: NO_SUCH, effective_date: future }, expect: 422 });
    await call("work_addresses.create bad date", "POST", `/v1/employees/${E}/work_addresses`, { body: { location_uuid: loc.uuid || NO_SUCH, effective_date: "2024-13-01" }, expect: 422 });
    const wactive = wlb.find((a) => a.active);
    if (wactive) await call("work_addresses.delete active address", "DELETE", `/v1/work_addresses/${wactive.uuid}`, { expect: 422 });
    await call("work_addresses.list unknown employee", "GET", `/v1/employees/${NO_SUCH}/work_addresses`, { expect: 404 });
    await call("work_addresses.create unknown employee", "POST", `/v1/employees/${NO_SUCH}/work_addresses`, { body: { location_uuid: loc.uuid || NO_SUCH }, expect: 404 });
    await call("work_addresses.get unknown", "GET", `/v1/work_addresses/${NO_SUCH}`, { expect: 404 });
    await call("work_addresses.update unknown", "PUT", `/v1/work_addresses/${NO_SUCH}`, { body: { version: "x" }, expect: 404 });
    await call("work_addresses.delete unknown", "DELETE", `/v1/work_addresses/${NO_SUCH}`, { expect: 404 });

    // ---- jobs (seed employee)
    const jl = await call("jobs.list", "GET", `/v1/employees/${E}/jobs`, { expect: 200 });
    const jlb = Array.isArray(jl.body) ? jl.body : [];
    check("jobs.list: non-empty, one primary, compensation fields present with compensations:read",
      jlb.length > 0 && jlb.filter((j) => j.primary).length === 1 && jlb.every((j) => j.employee_uuid === E && typeof j.rate === "string" && Array.isArray(j.compensations)),
      () => jl.text.slice(0, 300));
    const jp = await call("jobs.list page", "GET", `/v1/employees/${E}/jobs${q({ page: 1, per: 1 })}`, { expect: 200 });
    check("jobs.list page=1&per=1: pagination headers", jp.headers.get("x-total-count") === String(jlb.length) && jp.headers.get("x-per-page") === "1",
      () => `x-total-count=${jp.headers.get("x-total-count")} x-per-page=${jp.headers.get("x-per-page")}`);
    if (jlb[0]) {
      const ja = await call("jobs.get include=all_compensations", "GET", `/v1/jobs/${jlb[0].uuid}${q({ include: "all_compensations" })}`, { expect: 200 });
      check("jobs.get include=all_compensations: >= as many compensations as default",
        ja.body && Array.isArray(ja.body.compensations) && ja.body.compensations.length >= jlb[0].compensations.length,
        () => JSON.stringify(ja.body).slice(0, 300));
      const cl = await call("compensations.list", "GET", `/v1/jobs/${jlb[0].uuid}/compensations`, { expect: 200 });
      check("compensations.list: non-empty, all for the job", Array.isArray(cl.body) && cl.body.length > 0 && cl.body.every((c) => c.job_uuid === jlb[0].uuid),
        () => cl.text.slice(0, 300));
      await call("compensations.list include=all_compensations", "GET", `/v1/jobs/${jlb[0].uuid}/compensations${q({ include: "all_compensations" })}`, { expect: 200 });
    }
  }
  await call("jobs.list unknown employee", "GET", `/v1/employees/${NO_SUCH}/jobs`, { expect: 404 });

  // ---- jobs and compensations on the employee created above
  if (emp.uuid) {
    const hire = todayYMD(0);
    const jc = await call("jobs.create", "POST", `/v1/employees/${emp.uuid}/jobs`, { body: { title: "Analyst", hire_date: hire }, expect: 201 });
    const job = jc.body || {};
    check("jobs.create: title/hire_date echoed, first job is primary",
      job.title === "Analyst" && job.hire_date === hire && job.primary === true && job.employee_uuid === emp.uuid && typeof job.version === "string",
      () => JSON.stringify(job).slice(0, 400));
    await call("jobs.create missing hire_date", "POST", `/v1/employees/${emp.uuid}/jobs`, { body: { title: "No Date" }, expect: 422 });
    const jbd = await call("jobs.create bad hire_date", "POST", `/v1/employees/${emp.uuid}/jobs`, { body: { title: "Bad Date", hire_date: "2024-02-30" }, expect: 422 });
    expectError("jobs.create bad hire_date", jbd, { key: "hire_date" });
    await call("jobs.create unknown employee", "POST", `/v1/employees/${NO_SUCH}/jobs`, { body: { title: "X", hire_date: hire }, expect: 404 });
    if (job.uuid) {
      const jg = await call("jobs.get", "GET", `/v1/jobs/${job.uuid}`, { expect: 200 });
      check("jobs.get: same version as create", jg.body && jg.body.version === job.version, () => `${jg.body && jg.body.version} vs ${job.version}`);
      const ju = await call("jobs.update", "PUT", `/v1/jobs/${job.uuid}`, { body: { version: job.version, title: "Senior Analyst" }, expect: 200 });
      check("jobs.update: title changed and version bumped", ju.body && ju.body.title === "Senior Analyst" && ju.body.version !== job.version,
        () => JSON.stringify(ju.body).slice(0, 300));
      const eg = await call("employees.get after job changes", "GET", `/v1/employees/${emp.uuid}`, { expect: 200, validateBody: false });
      check("employees.get: new job appears in employee.jobs with the updated title",
        eg.body && Array.isArray(eg.body.jobs) && eg.body.jobs.some((j) => j.uuid === job.uuid && j.title === "Senior Analyst"),
        () => JSON.stringify(eg.body && eg.body.jobs).slice(0, 300));
      check("employees: version changes when a child job changes (version covers child objects)",
        eg.body && eg.body.version !== emp.version, () => `employee version still ${emp.version}`);
      const js = await call("jobs.update stale version", "PUT", `/v1/jobs/${job.uuid}`, { body: { version: job.version, title: "Stale" }, expect: 422 });
      expectError("jobs.update stale version", js, { category: "invalid_resource_version" });
      if (ju.body) {
        const nj = await noopPut("jobs.update", `/v1/jobs/${job.uuid}`, ju.body, ["title", "hire_date"]);
        if (nj && nj.version) ju.body.version = nj.version;
      }
      await call("jobs.update bad hire_date", "PUT", `/v1/jobs/${job.uuid}`, { body: { version: ju.body && ju.body.version, hire_date: "not-a-date" }, expect: 422 });

      // compensations
      const cl0 = await call("compensations.list (new job)", "GET", `/v1/jobs/${job.uuid}/compensations`, { expect: 200 });
      let baseComp = Array.isArray(cl0.body) && cl0.body[0];
      if (!baseComp) {
        // A job needs one compensation that stays; create it at the hire date.
        const bc = await call("compensations.create (base)", "POST", `/v1/jobs/${job.uuid}/compensations`,
          { body: { rate: "25.00", payment_unit: "Hour", flsa_status: "Nonexempt", effective_date: hire }, expect: 201 });
        baseComp = bc.body;
      }
      const eff = todayYMD(30);
      const cc = await call("compensations.create", "POST", `/v1/jobs/${job.uuid}/compensations`,
        { body: { rate: "30.00", payment_unit: "Hour", flsa_status: "Nonexempt", effective_date: eff }, expect: 201 });
      const comp = cc.body || {};
      check("compensations.create: rate/unit/flsa echoed",
        comp.rate === "30.00" && comp.payment_unit === "Hour" && comp.flsa_status === "Nonexempt" && comp.job_uuid === job.uuid && comp.effective_date === eff && typeof comp.version === "string",
        () => JSON.stringify(comp));
      const cbad = await call("compensations.create payment_unit Fortnight", "POST", `/v1/jobs/${job.uuid}/compensations`,
        { body: { rate: "30.00", payment_unit: "Fortnight", flsa_status: "Nonexempt" }, expect: 422 });
      expectError("compensations.create payment_unit Fortnight", cbad, { key: "payment_unit", category: "invalid_attribute_value" });
      await call("compensations.create bad flsa_status", "POST", `/v1/jobs/${job.uuid}/compensations`,
        { body: { rate: "30.00", payment_unit: "Hour", flsa_status: "Bogus" }, expect: 422 });
      await call("compensations.create bad rate", "POST", `/v1/jobs/${job.uuid}/compensations`,
        { body: { rate: "thirty", payment_unit: "Hour", flsa_status: "Nonexempt" }, expect: 422 });
      await call("compensations.create missing rate", "POST", `/v1/jobs/${job.uuid}/compensations`,
        { body: { payment_unit: "Hour", flsa_status: "Nonexempt" }, expect: 422 });
      await call("compensations.create unknown job", "POST", `/v1/jobs/${NO_SUCH}/compensations`,
        { body: { rate: "30.00", payment_unit: "Hour", flsa_status: "Nonexempt" }, expect: 404 });
      if (comp.uuid) {
        const cg = await call("compensations.get", "GET", `/v1/compensations/${comp.uuid}`, { expect: 200 });
        check("compensations.get: same version", cg.body && cg.body.version === comp.version, () => JSON.stringify(cg.body));
        const cu = await call("compensations.update", "PUT", `/v1/compensations/${comp.uuid}`, { body: { version: comp.version, rate: "32.50" }, expect: 200 });
        check("compensations.update: rate changed and version bumped", cu.body && cu.body.rate === "32.50" && cu.body.version !== comp.version,
          () => JSON.stringify(cu.body));
        const cs = await call("compensations.update stale version", "PUT", `/v1/compensations/${comp.uuid}`, { body: { version: comp.version, rate: "1.00" }, expect: 422 });
        expectError("compensations.update stale version", cs, { category: "invalid_resource_version" });
        if (cu.body) {
          const nc = await noopPut("compensations.update", `/v1/compensations/${comp.uuid}`, cu.body, ["rate", "payment_unit", "flsa_status"]);
          if (nc && nc.version) cu.body.version = nc.version;
        }
        const cub = await call("compensations.update payment_unit Fortnight", "PUT", `/v1/compensations/${comp.uuid}`,
          { body: { version: cu.body && cu.body.version, payment_unit: "Fortnight" }, expect: 422 });
        expectError("compensations.update payment_unit Fortnight", cub, { key: "payment_unit" });
        const jAfter = await call("jobs.get after compensation changes", "GET", `/v1/jobs/${job.uuid}${q({ include: "all_compensations" })}`, { expect: 200 });
        check("jobs.get include=all_compensations: lists the new compensation",
          jAfter.body && Array.isArray(jAfter.body.compensations) && jAfter.body.compensations.some((c) => c.uuid === comp.uuid && c.rate === "32.50"),
          () => JSON.stringify(jAfter.body && jAfter.body.compensations));
        check("jobs: version changes when a child compensation changes (version covers child objects)",
          jAfter.body && ju.body && jAfter.body.version !== ju.body.version, () => `job version still ${ju.body && ju.body.version}`);
        await call("compensations.delete", "DELETE", `/v1/compensations/${comp.uuid}`, { expect: 204 });
        await call("compensations.get after delete", "GET", `/v1/compensations/${comp.uuid}`, { expect: 404 });
      }
      if (baseComp && baseComp.uuid) {
        const only = await call("compensations.delete only compensation", "DELETE", `/v1/compensations/${baseComp.uuid}`, { expect: 422 });
        expectError("compensations.delete only compensation", only, { category: "invalid_operation" });
      }
      // second job (hourly employee may hold several) then delete it
      const j2 = await call("jobs.create second job", "POST", `/v1/employees/${emp.uuid}/jobs`, { body: { title: "Weekend Analyst", hire_date: hire }, expect: 201 });
      if (j2.body && j2.body.uuid) {
        check("jobs.create second job: not primary", j2.body.primary === false, () => JSON.stringify(j2.body).slice(0, 200));
        await call("jobs.delete", "DELETE", `/v1/jobs/${j2.body.uuid}`, { expect: 204 });
        await call("jobs.get after delete", "GET", `/v1/jobs/${j2.body.uuid}`, { expect: 404 });
      }
    }
  }
  await call("jobs.get unknown", "GET", `/v1/jobs/${NO_SUCH}`, { expect: 404 });
  await call("jobs.update unknown", "PUT", `/v1/jobs/${NO_SUCH}`, { body: { version: "x", title: "X" }, expect: 404 });
  await call("jobs.delete unknown", "DELETE", `/v1/jobs/${NO_SUCH}`, { expect: 404 });
  await call("compensations.list unknown job", "GET", `/v1/jobs/${NO_SUCH}/compensations`, { expect: 404 });
  await call("compensations.get unknown", "GET", `/v1/compensations/${NO_SUCH}`, { expect: 404 });
  await call("compensations.update unknown", "PUT", `/v1/compensations/${NO_SUCH}`, { body: { version: "x", rate: "1.00" }, expect: 404 });
  await call("compensations.delete unknown", "DELETE", `/v1/compensations/${NO_SUCH}`, { expect: 404 });

  // ---- time off activities
  let found = null;
  for (const e of emps.filter((x) => !x.terminated).slice(0, 8)) {
    const r = await call(`time_off_activities vacation ${e.uuid.slice(0, 8)}`, "GET",
      `/v1/employees/${e.uuid}/time_off_activities${q({ time_off_type: "vacation" })}`, { expect: 200, validateBody: !found });
    if (Array.isArray(r.body) && r.body.length > 0) { found = { e, r }; break; }
  }
  check("time_off_activities vacation: some seeded employee has vacation activity", !!found, "none of the first 8 active employees had any");
  if (found) {
    const items = found.r.body;
    check("time_off_activities vacation: every item is vacation with balance strings",
      items.every((a) => a.time_off_type === "vacation" && (a.balance === null || typeof a.balance === "string")),
      () => JSON.stringify(items[0]));
    const times = items.map((a) => Date.parse(a.effective_time));
    check("time_off_activities vacation: ordered by effective_time", times.every((t, i) => i === 0 || t >= times[i - 1]),
      () => items.map((a) => a.effective_time).join(", "));
    let arithmetic = true;
    for (let i = 1; i < items.length; i++) {
      if (items[i].policy_uuid !== items[i - 1].policy_uuid) continue;
      const want = parseFloat(items[i - 1].balance) + parseFloat(items[i].balance_change);
      if (Math.abs(want - parseFloat(items[i].balance)) > 0.011) { arithmetic = false; break; }
    }
    check("time_off_activities vacation: balance[i] = balance[i-1] + balance_change[i]", arithmetic,
      () => items.map((a) => `${a.balance_change}->${a.balance}`).join(" "));
    const ge = await call("employees.get for time off balance", "GET", `/v1/employees/${found.e.uuid}`, { expect: 200, validateBody: false });
    const pto = ge.body && (ge.body.eligible_paid_time_off || []).find((p) => p.policy_uuid === items[items.length - 1].policy_uuid);
    if (pto) {
      check("time_off_activities vacation: last balance equals employee eligible_paid_time_off accrual_balance",
        Math.abs(parseFloat(pto.accrual_balance) - parseFloat(items[items.length - 1].balance)) < 0.011,
        () => `activities end at ${items[items.length - 1].balance}, employee accrual_balance ${pto.accrual_balance}`);
    }
    const sick = await call("time_off_activities sick", "GET", `/v1/employees/${found.e.uuid}/time_off_activities${q({ time_off_type: "sick" })}`, { expect: 200 });
    check("time_off_activities sick: every item is sick", Array.isArray(sick.body) && sick.body.every((a) => a.time_off_type === "sick"),
      () => sick.text.slice(0, 200));
    const bad = await call("time_off_activities bad type", "GET", `/v1/employees/${found.e.uuid}/time_off_activities${q({ time_off_type: "holiday" })}`, { expect: 422 });
    expectError("time_off_activities bad type", bad, { category: "invalid_parameter" });
    await call("time_off_activities missing type", "GET", `/v1/employees/${found.e.uuid}/time_off_activities`, { expect: 422 });
  }
  await call("time_off_activities unknown employee", "GET", `/v1/employees/${NO_SUCH}/time_off_activities${q({ time_off_type: "vacation" })}`, { expect: 404 });

  // ---- auth: 401, 403, scope-dependent rendering
  const n1 = await call("no token", "GET", `/v1/companies/${company}/employees`, { token: null, expect: 401 });
  expectError("no token", n1, { category: "invalid_token" });
  await call("wrong token", "GET", `/v1/companies/${company}`, { token: "not-a-real-token", expect: 401 });
  await call("token_info without token", "GET", `/v1/token_info`, { token: null, expect: 401 });
  const lti = await call("limited token_info", "GET", "/v1/token_info", { token: LIMITED, expect: 200 });
  check("limited token_info: scope lists exactly the granted scopes (plus public)",
    lti.body && String(lti.body.scope).split(/\s+/).filter((x) => x !== "public").sort().join(" ") === LIMITED_SCOPES.split(",").sort().join(" "),
    () => `scope=${lti.body && lti.body.scope}`);
  await call("limited companies:read GET company", "GET", `/v1/companies/${company}`, { token: LIMITED, expect: 200 });
  const lemp = await call("limited employees:read GET employee", "GET", `/v1/employees/${E}`, { token: LIMITED, expect: 200 });
  if (lemp.body && Array.isArray(lemp.body.jobs)) {
    check("limited token without compensations:read: jobs carry no rate/compensations",
      lemp.body.jobs.every((j) => j.rate === undefined && j.compensations === undefined && j.current_compensation_uuid === undefined),
      () => JSON.stringify(lemp.body.jobs[0]).slice(0, 300));
  }
  const f1 = await call("limited: jobs.list needs jobs:read", "GET", `/v1/employees/${E}/jobs`, { token: LIMITED, expect: 403 });
  void f1;
  await call("limited: employees.update needs employees:write", "PUT", `/v1/employees/${E}`, { token: LIMITED, body: { version: "x", first_name: "X" }, expect: 403 });
  await call("limited: employees.create needs employees:manage", "POST", `/v1/companies/${company}/employees`, { token: LIMITED, body: { first_name: "X", last_name: "Y" }, expect: 403 });
  await call("limited: locations.create needs companies:write", "POST", `/v1/companies/${company}/locations`, { token: LIMITED, body: newLocBody, expect: 403 });
  await call("limited: compensations.get needs compensations:read", "GET", `/v1/compensations/${NO_SUCH}`, { token: LIMITED, expect: [403, 404] });
  await call("limited: time_off_activities needs employee_time_off_activities:read", "GET",
    `/v1/employees/${E}/time_off_activities${q({ time_off_type: "vacation" })}`, { token: LIMITED, expect: 403 });

  // ---- API version header
  const v406 = await call("bad X-Gusto-API-Version", "GET", `/v1/companies/${company}`, { headers: { "X-Gusto-API-Version": "2023" }, expect: 406 });
  expectError("bad X-Gusto-API-Version", v406, { category: "invalid_api_version" });
  await call("future X-Gusto-API-Version", "GET", `/v1/companies/${company}`, { headers: { "X-Gusto-API-Version": "2099-01-01" }, expect: 406 });
  for (const v of ["2025-11-15", "2026-02-01", "2026-06-15", "2026-12-01"]) {
    const r = await call(`explicit X-Gusto-API-Version ${v}`, "GET", `/v1/companies/${company}`, { headers: { "X-Gusto-API-Version": v }, expect: 200 });
    check(`X-Gusto-API-Version ${v} is echoed`, r.headers.get("x-gusto-api-version") === v, `got ${r.headers.get("x-gusto-api-version")}`);
  }
  const retired = await call("retired X-Gusto-API-Version 2025-06-15", "GET", `/v1/companies/${company}`, { headers: { "X-Gusto-API-Version": "2025-06-15" }, expect: 406 });
  expectError("retired X-Gusto-API-Version", retired, { category: "invalid_api_version" });

  // ---- unknown route
  // garbage query params must not cause 5xx
  for (const [label, params] of [["page=abc", { page: "abc" }], ["per=-1", { page: 1, per: -1 }], ["per=0", { page: 1, per: 0 }],
    ["per=100000", { page: 1, per: 100000 }], ["page=0", { page: 0, per: 5 }], ["page=999999999999", { page: "999999999999", per: 5 }],
    ["terminated=maybe", { terminated: "maybe" }], ["long unicode search_term", { search_term: "Zoë ".repeat(300) + "%_'\"" }]]) {
    const r = await call(`employees.list ${label}`, "GET", `/v1/companies/${company}/employees${q(params)}`, { expect: [200, 400, 422] });
    void r;
  }
  const big = "x".repeat(1100 * 1024);
  await call("employees.create 1.1 MiB body", "POST", `/v1/companies/${company}/employees`,
    { body: JSON.stringify({ first_name: "Big", last_name: big }), expect: 413 });
  const ur = await call("unknown route", "GET", `/v1/no_such_thing`, { expect: 404 });
  check("error responses also carry X-Gusto-API-Version", ur.headers.get("x-gusto-api-version") === "2026-12-01",
    `got ${ur.headers.get("x-gusto-api-version")}`);
  await call("unrouted method", "DELETE", `/v1/locations/${NO_SUCH}`, { expect: [404, 405] });
  await call("trailing slash tolerated", "GET", `/v1/companies/${company}/`, { expect: 200, validateBody: false });
}

async function rateLimitScenario() {
  const sb = await startSandbox({ tokens: [TOKEN], rateLimit: 3 });
  BASE = sb.base;
  try {
    let got429 = null;
    let first = null;
    for (let i = 0; i < 8 && !got429; i++) {
      const r = await call(`rate limit request ${i + 1}`, "GET", "/v1/token_info", { validateBody: false });
      if (!first) first = r;
      if (r.status === 429) got429 = r;
    }
    check("rate limit: X-RateLimit-Limit/Remaining/Reset on responses",
      first && first.headers.get("x-ratelimit-limit") === "3" && first.headers.get("x-ratelimit-remaining") !== null && first.headers.get("x-ratelimit-reset") !== null,
      () => `limit=${first && first.headers.get("x-ratelimit-limit")} remaining=${first && first.headers.get("x-ratelimit-remaining")} reset=${first && first.headers.get("x-ratelimit-reset")}`);
    if (check("rate limit: 429 after 3 requests with --rate-limit 3", !!got429, "never got 429 in 8 requests")) {
      const v = validatorFor("/v1/token_info", "GET", 429);
      check("rate limit: GET /v1/token_info 429 body matches generic error shape", v.validate(got429.body),
        () => `${ajvErrors(v.validate.errors)}; body=${got429.text.slice(0, 200)}`);
      check("rate limit: 429 carries Retry-After", /^\d+$/.test(got429.headers.get("retry-after") || ""),
        `Retry-After=${got429.headers.get("retry-after")}`);
    }
  } finally {
    await stopSandbox(sb);
  }
}

await runMain(async () => {
  initSpec();
  const sb = await startSandbox({ tokens: [TOKEN, `${LIMITED}:${LIMITED_SCOPES}`] });
  BASE = sb.base;
  try {
    await scenario();
  } finally {
    await stopSandbox(sb);
    if (sb.proc.exitCode && sb.proc.exitCode !== 0) fail("sandbox exit", `exit code ${sb.proc.exitCode}\n${sb.stderr().slice(-2000)}`);
  }
  await rateLimitScenario();
  await peopleBatchScenario();
  await terminationScenario();
  await timeOffPolicyScenario();
  await departmentScenario();
  await aroundEmployeeScenario();
});
void rateNote;

// ---- people batches (appended) ---------------------------------------------

/** Poll a batch until it is finished; every poll's body is checked. */
async function pollBatch(label, uuid) {
  for (let i = 0; i < 500; i++) {
    const r = await call(`${label} poll`, "GET", `/v1/people_batches/${uuid}`, { expect: 200 });
    const st = r.body && r.body.status;
    if (["completed", "partial_success", "failed"].includes(st)) return r.body;
    if (!["pending", "processing"].includes(st)) return r.body;
    await new Promise((res) => setTimeout(res, 20));
  }
  fail(`${label}: batch finishes`, `${uuid} still not finished after 500 polls`);
  return null;
}

async function peopleBatchScenario() {
  const OTHER = "conformance-other";
  const sb = await startSandbox({ tokens: [TOKEN, `${LIMITED}:${LIMITED_SCOPES}`, `${OTHER}@other`] });
  BASE = sb.base;
  try {
    const ti = await call("batches token_info", "GET", "/v1/token_info", { expect: 200 });
    const company = ti.body && ti.body.resource && ti.body.resource.uuid;
    const emps = await call("batches employees.list", "GET", `/v1/companies/${company}/employees${q({ page: 1, per: 1 })}`, { expect: 200 });
    const dept = emps.body && emps.body[0] && emps.body[0].department_uuid;
    const locs = await call("batches locations.list", "GET", `/v1/companies/${company}/locations`, { expect: 200 });
    const loc = locs.body && locs.body[0] && locs.body[0].uuid;
    const path = `/v1/companies/${company}/people_batches`;

    // The guide's minimal example.
    const minimal = {
      idempotency_key: "bcfc9744-0ab3-4ef3-ab0d-e728255d659c", batch_action: "create",
      batch: [{ entity_type: "employee", person: { external_id: "employee-abc-123", first_name: "Alice", last_name: "Smith" } }],
    };
    const c1 = await call("people_batches.create minimal", "POST", path, { body: minimal, expect: 201 });
    check("people_batches.create: pending, echoes the key",
      c1.body && c1.body.status === "pending" && c1.body.idempotency_key === minimal.idempotency_key && c1.body.batch_action === "create",
      () => c1.text.slice(0, 300));
    const b1 = c1.body && c1.body.uuid ? await pollBatch("people_batches.get minimal", c1.body.uuid) : null;
    check("people_batches.get minimal: completed with one successful result",
      b1 && b1.status === "completed" && b1.results.length === 1 && b1.results[0].status === "success" && b1.results[0].external_id === "employee-abc-123",
      () => JSON.stringify(b1).slice(0, 400));
    if (b1 && b1.results[0] && b1.results[0].employee_uuid) {
      await call("batch employee employees.get", "GET", `/v1/employees/${b1.results[0].employee_uuid}`, { expect: 200 });
    }

    // Every part, two people, both split kinds.
    const full = {
      idempotency_key: "6f1f4c1e-7d0b-4d9e-9f57-3c2a1b0e9d8c", batch_action: "create",
      batch: [
        {
          entity_type: "employee",
          person: { external_id: "c-1", first_name: "Grace", last_name: "Hopper", email: "grace@example.com", ssn: "123-45-6789", middle_initial: "B" },
          home_address: { street_1: "1 Navy Way", city: "Arlington", state: "VA", zip: "22202" },
          work_address: { location_uuid: loc }, department: { department_uuid: dept },
          job: { title: "Admiral", hire_date: "2024-03-01" },
          compensation: { rate: "185000.00", payment_unit: "Year", flsa_status: "Exempt" },
          bank_accounts: [
            { name: "Main", account_type: "Checking", routing_number: "266905059", account_number: "5550001207", type: "Direct Deposit", split_by: "Amount", split_amount: "50000" },
            { name: "Rest", account_type: "Savings", routing_number: "021000021", account_number: "7770008890", type: "Direct Deposit", split_by: "Amount", split_amount: null },
          ],
        },
        {
          entity_type: "employee",
          person: { external_id: "c-2", first_name: "Kat", last_name: "Johnson" },
          home_address: { street_1: "44 Orbit Road", city: "Hampton", state: "VA", zip: "23666", work_from_home: true },
          job: { title: "Mathematician", hire_date: "2025-01-06" },
          compensation: { rate: "48.50", payment_unit: "Hour", flsa_status: "Nonexempt" },
          bank_accounts: [
            { account_type: "Checking", routing_number: "266905059", account_number: "99994321", type: "Direct Deposit", split_by: "Percentage", split_amount: "60" },
            { account_type: "Savings", routing_number: "021000021", account_number: "123450009", type: "Direct Deposit", split_by: "Percentage", split_amount: "40" },
          ],
        },
      ],
    };
    const c2 = await call("people_batches.create full", "POST", path, { body: full, expect: 201 });
    const b2 = c2.body && c2.body.uuid ? await pollBatch("people_batches.get full", c2.body.uuid) : null;
    check("people_batches.get full: completed, two successes",
      b2 && b2.status === "completed" && b2.processed_items === 2, () => JSON.stringify(b2).slice(0, 400));
    check("people_batches.get full: no account number in the results",
      b2 && !JSON.stringify(b2).includes("5550001207") && !JSON.stringify(b2).includes("99994321"), "an account number leaked");
    const wfh = b2 && b2.results[1] && b2.results[1].employee_uuid;
    if (wfh) {
      const e2 = await call("batch wfh employee employees.get", "GET", `/v1/employees/${wfh}`, { expect: 200 });
      check("batch employee with bank accounts: payment_method Direct Deposit",
        e2.body && e2.body.payment_method === "Direct Deposit", () => e2.text.slice(0, 200));
      const wa = await call("batch wfh work_addresses.list", "GET", `/v1/employees/${wfh}/work_addresses`, { expect: 200 });
      const wl = wa.body && wa.body[0] && wa.body[0].location_uuid;
      if (wl) await call("batch wfh locations.get", "GET", `/v1/locations/${wl}`, { expect: 200 });
      await call("batch wfh home_addresses.list", "GET", `/v1/employees/${wfh}/home_addresses`, { expect: 200 });
      await call("batch wfh jobs.list", "GET", `/v1/employees/${wfh}/jobs`, { expect: 200 });
    }

    // One attribute fails (a department of no company): the person and the
    // batch are partial_success, with a status per attribute.
    const partial = {
      idempotency_key: "0c5d0e52-5b44-4f0a-8a7e-2b9c1d3e4f50", batch_action: "create",
      batch: [
        { entity_type: "employee", person: { external_id: "p-ok", first_name: "Ok", last_name: "Person" } },
        { entity_type: "employee", person: { external_id: "p-bad", first_name: "Bad", last_name: "Dept" }, department: { department_uuid: NO_SUCH } },
      ],
    };
    const c3 = await call("people_batches.create partial", "POST", path, { body: partial, expect: 201 });
    const b3 = c3.body && c3.body.uuid ? await pollBatch("people_batches.get partial", c3.body.uuid) : null;
    check("people_batches.get partial: partial_success, the failure names its entry and field",
      b3 && b3.status === "partial_success" && b3.results[1].status === "partial_success" &&
      b3.results[1].errors[0].error_key === "batch[1].department.department_uuid" &&
      b3.results[1].employee_uuid && b3.results[1].attributes && b3.results[1].attributes.department === "failed",
      () => JSON.stringify(b3).slice(0, 500));

    // A repeated external_id: excluded, the batch accepted (Gusto's guide).
    const dups = {
      idempotency_key: "0c5d0e52-5b44-4f0a-8a7e-2b9c1d3e4f51", batch_action: "create",
      batch: [
        { entity_type: "employee", person: { external_id: "x-dup", first_name: "Dup", last_name: "One" } },
        { entity_type: "employee", person: { external_id: "x-dup", first_name: "Dup", last_name: "Two" } },
        { entity_type: "employee", person: { external_id: "x-solo", first_name: "Solo", last_name: "Three" } },
      ],
    };
    const c4 = await call("people_batches.create repeated external_id", "POST", path, { body: dups, expect: 201 });
    const b4 = c4.body && c4.body.uuid ? await pollBatch("people_batches.get exclusions", c4.body.uuid) : null;
    check("people_batches.get exclusions: the repeats excluded, the rest processed",
      b4 && b4.excluded_items === 2 && Array.isArray(b4.exclusions) && b4.exclusions.length === 1 &&
        b4.exclusions[0].external_id === "x-dup" && b4.exclusions[0].item_count === 2 &&
        b4.results.length === 1 && b4.results[0].external_id === "x-solo",
      () => JSON.stringify(b4).slice(0, 500));

    // 409, 422, 404, 403.
    const dup = await call("people_batches.create reused key", "POST", path, { body: minimal, expect: 409 });
    check("409: metadata names the existing batch",
      dup.body && dup.body.errors && dup.body.errors[0].metadata &&
      dup.body.errors[0].metadata.entity_uuid === (c1.body && c1.body.uuid) && dup.body.errors[0].metadata.entity_type === "PeopleBatch",
      () => dup.text.slice(0, 300));
    const bad = await call("people_batches.create invalid", "POST", path, {
      body: { idempotency_key: "9d9a4c1e-7d0b-4d9e-9f57-3c2a1b0e9d8c", batch_action: "create",
        batch: [{ entity_type: "employee", person: { external_id: "x", first_name: "X" } }] },
      expect: 422,
    });
    expectError("people_batches.create invalid", bad, { key: "batch[0].person.last_name", category: "invalid_attribute_value" });
    await call("people_batches.create bad action", "POST", path, { body: { ...minimal, idempotency_key: "9d9a4c1e-7d0b-4d9e-9f57-3c2a1b0e9d8d", batch_action: "delete" }, expect: 422 });
    await call("people_batches.create unknown company", "POST", `/v1/companies/${NO_SUCH}/people_batches`, { body: minimal, expect: 404 });
    await call("people_batches.get unknown", "GET", `/v1/people_batches/${NO_SUCH}`, { expect: 404 });
    if (c1.body && c1.body.uuid) {
      await call("people_batches.get other company", "GET", `/v1/people_batches/${c1.body.uuid}`, { token: OTHER, expect: 404 });
      await call("people_batches.get without people_batches:read", "GET", `/v1/people_batches/${c1.body.uuid}`, { token: LIMITED, expect: 403 });
    }
    await call("people_batches.create without people_batches:write", "POST", path, { token: LIMITED, body: minimal, expect: 403 });
  } finally {
    await stopSandbox(sb);
    if (sb.proc.exitCode && sb.proc.exitCode !== 0) fail("batches sandbox exit", `exit code ${sb.proc.exitCode}\n${sb.stderr().slice(-2000)}`);
  }
}

// ---- terminations and rehires (appended) -----------------------------------

async function terminationScenario() {
  const sb = await startSandbox({ tokens: [TOKEN, `${LIMITED}:${LIMITED_SCOPES}`] });
  BASE = sb.base;
  try {
    const info = await call("terminations: token_info", "GET", "/v1/token_info", { expect: 200 });
    const C = info.body && info.body.resource && info.body.resource.uuid;
    const list = await call("terminations: employees", "GET", `/v1/companies/${C}/employees`, { expect: 200 });
    const all = Array.isArray(list.body) ? list.body : [];
    const E = (all.find((e) => e.onboarded && !e.terminated && e.terminations.length === 0) || {}).uuid;
    const O = (all.find((e) => !e.onboarded) || {}).uuid;
    const locs = await call("terminations: locations", "GET", `/v1/companies/${C}/locations`, { expect: 200 });
    const L = locs.body && locs.body[0] && locs.body[0].uuid;
    const day = (n) => new Date(Date.now() + n * 86400000).toISOString().slice(0, 10);
    const T = `/v1/employees/${E}/terminations`;
    await call("terminations.list none", "GET", T, { expect: 200 });
    const t1 = await call("terminations.create", "POST", T, { body: { effective_date: day(-1) }, expect: 201 });
    check("terminations.create: active, not cancelable", t1.body && t1.body.active === true && t1.body.cancelable === false,
      () => t1.text.slice(0, 300));
    await call("terminations.create twice", "POST", T, { body: { effective_date: day(0) }, expect: 422 });
    // Gusto's terminate guide: a hire date is required; onboarding or not.
    const nj = await call("terminations: an employee with no job", "POST", `/v1/companies/${C}/employees`,
      { body: { first_name: "No", last_name: "Hire" }, expect: 201, validateBody: false });
    const noHire = await call("terminations.create without a hire date", "POST", `/v1/employees/${nj.body && nj.body.uuid}/terminations`,
      { body: { effective_date: day(0) }, expect: 422 });
    expectError("terminations.create without a hire date", noHire, { category: "invalid_operation" });
    await call("terminations.create onboarding with a hire date", "POST", `/v1/employees/${O}/terminations`, { body: { effective_date: day(0) }, expect: 201 });
    await call("terminations.create no date", "POST", T, { body: { run_termination_payroll: true }, expect: 422 });
    await call("terminations.create unknown", "POST", `/v1/employees/${NO_SUCH}/terminations`, { body: { effective_date: day(0) }, expect: 404 });
    await call("terminations.delete in effect", "DELETE", T, { expect: 422 });
    await call("terminations.list", "GET", T, { expect: 200 });
    await call("rehire.get none", "GET", `/v1/employees/${E}/rehire`, { expect: 204 });
    const rh = { effective_date: day(0), file_new_hire_report: true, work_location_uuid: L, employment_status: "full_time" };
    await call("rehire.create", "POST", `/v1/employees/${E}/rehire`, { body: rh, expect: 201 });
    await call("rehire.get", "GET", `/v1/employees/${E}/rehire`, { expect: 200 });
    await call("rehire.create not terminated", "POST", `/v1/employees/${E}/rehire`, { body: rh, expect: 422 });
    await call("rehire.create missing fields", "POST", `/v1/employees/${O}/rehire`, { body: {}, expect: 422 });
    const t2 = await call("terminations.create scheduled", "POST", T, { body: { effective_date: day(10) }, expect: 201 });
    check("terminations.create scheduled: cancelable", t2.body && t2.body.active === false && t2.body.cancelable === true,
      () => t2.text.slice(0, 300));
    await call("terminations.delete scheduled", "DELETE", T, { expect: 204 });
    await call("terminations.list without employments:read", "GET", T, { token: LIMITED, expect: 403 });
  } finally {
    await stopSandbox(sb);
    if (sb.proc.exitCode && sb.proc.exitCode !== 0) fail("terminations sandbox exit", `exit code ${sb.proc.exitCode}\n${sb.stderr().slice(-2000)}`);
  }
}

// Time Off Policies: every operation, each response checked against the spec.
async function timeOffPolicyScenario() {
  const sb = await startSandbox({ tokens: [TOKEN, `${LIMITED}:${LIMITED_SCOPES}`] });
  BASE = sb.base;
  try {
    const info = await call("time off policies: token_info", "GET", "/v1/token_info", { expect: 200 });
    const C = info.body && info.body.resource && info.body.resource.uuid;
    const list = await call("time_off_policies.getAll", "GET", `/v1/companies/${C}/time_off_policies`, { expect: 200 });
    const seeded = Array.isArray(list.body) ? list.body : [];
    check("time_off_policies.getAll: the seeded vacation and sick policies, with employees",
      seeded.length === 2 && seeded[0].policy_type === "vacation" && seeded[1].policy_type === "sick" &&
        seeded[0].employees.length > 0, () => list.text.slice(0, 300));
    const P = seeded[0] && seeded[0].uuid;
    await call("time_off_policies.get", "GET", `/v1/time_off_policies/${P}`, { expect: 200 });
    await call("time_off_policies.get unknown", "GET", `/v1/time_off_policies/${NO_SUCH}`, { expect: 404 });
    await call("time_off_policies.getAll without time_off_policies:read", "GET",
      `/v1/companies/${C}/time_off_policies`, { token: LIMITED, expect: 403 });
    const bad = await call("time_off_policies.create no name", "POST", `/v1/companies/${C}/time_off_policies`,
      { body: { policy_type: "vacation", accrual_method: "per_pay_period" }, expect: 422 });
    expectError("time_off_policies.create no name", bad, { key: "name" });
    const made = await call("time_off_policies.create", "POST", `/v1/companies/${C}/time_off_policies`,
      { body: { name: "Conformance PTO", policy_type: "vacation", accrual_method: "per_pay_period",
        accrual_rate: "4.0", paid_out_on_termination: true, policy_reset_date: "01-01" }, expect: 201 });
    const N = made.body && made.body.uuid;
    const upd = await call("time_off_policies.update", "PUT", `/v1/time_off_policies/${N}`,
      { body: { version: made.body && made.body.version, max_hours: "80.0" }, expect: 200 });
    await call("time_off_policies.update stale", "PUT", `/v1/time_off_policies/${N}`,
      { body: { version: made.body && made.body.version, max_hours: "81.0" }, expect: 409 });
    await noopPut("time_off_policies.update", `/v1/time_off_policies/${N}`, upd.body, ["name", "max_hours"]);
    const emps = await call("time off policies: employees", "GET", `/v1/companies/${C}/employees`, { expect: 200, validateBody: false });
    const E = ((emps.body || []).find((e) => e.jobs && e.jobs.length) || {}).uuid;
    // One policy of each type (Gusto's time-off-policies guide): the refusal
    // first, then take E off the seeded vacation policy P.
    const twice = await call("time_off_policies.addEmployees, second vacation policy", "PUT", `/v1/time_off_policies/${N}/add_employees`,
      { body: { employees: [{ uuid: E, balance: "10.0" }] }, expect: 422 });
    expectError("time_off_policies.addEmployees, second vacation policy", twice, { key: "employees" });
    await call("time_off_policies.removeEmployees from the seeded policy", "PUT", `/v1/time_off_policies/${P}/remove_employees`,
      { body: { employees: [{ uuid: E }] }, expect: 200 });
    const add = await call("time_off_policies.addEmployees", "PUT", `/v1/time_off_policies/${N}/add_employees`,
      { body: { employees: [{ uuid: E, balance: "10.0" }] }, expect: 200 });
    check("time_off_policies.addEmployees: the employee with the starting balance",
      add.body && add.body.employees.length === 1 && add.body.employees[0].balance === "10.0", () => add.text.slice(0, 300));
    await call("time_off_policies.addEmployees none", "PUT", `/v1/time_off_policies/${N}/add_employees`,
      { body: { employees: [] }, expect: 422 });
    await call("time_off_policies.updateBalance", "PUT", `/v1/time_off_policies/${N}/balance`,
      { body: { employees: [{ uuid: E, balance: "6.5" }] }, expect: 200 });
    await call("time_off_policies.removeEmployees", "PUT", `/v1/time_off_policies/${N}/remove_employees`,
      { body: { employees: [{ uuid: E }] }, expect: 200 });
    const off = await call("time_off_policies.deactivate", "PUT", `/v1/time_off_policies/${N}/deactivate`, { expect: 200 });
    check("time_off_policies.deactivate: inactive, version null",
      off.body && off.body.is_active === false && off.body.version === null, () => off.text.slice(0, 300));
  } finally {
    await stopSandbox(sb);
    if (sb.proc.exitCode && sb.proc.exitCode !== 0) fail("time off policies sandbox exit", `exit code ${sb.proc.exitCode}\n${sb.stderr().slice(-2000)}`);
  }
}

// Departments: every operation, each response checked against the spec.
async function departmentScenario() {
  const sb = await startSandbox({ tokens: [TOKEN, `${LIMITED}:${LIMITED_SCOPES}`] });
  BASE = sb.base;
  try {
    const info = await call("departments: token_info", "GET", "/v1/token_info", { expect: 200 });
    const C = info.body && info.body.resource && info.body.resource.uuid;
    const list = await call("departments.getAll", "GET", `/v1/companies/${C}/departments`, { expect: 200 });
    const seeded = Array.isArray(list.body) ? list.body : [];
    check("departments.getAll: five seeded departments with their employees",
      seeded.length === 5 && seeded.every((d) => d.employees.length > 0 && d.contractors.length === 0), () => list.text.slice(0, 300));
    await call("departments.get", "GET", `/v1/departments/${seeded[0] && seeded[0].uuid}`, { expect: 200 });
    await call("departments.get unknown", "GET", `/v1/departments/${NO_SUCH}`, { expect: 404 });
    await call("companies.getCustomFields", "GET", `/v1/companies/${C}/custom_fields`, { expect: 200 });
    const E0 = seeded[0] && seeded[0].employees[0].uuid;
    await call("employees.getCustomFields", "GET", `/v1/employees/${E0}/custom_fields`, { expect: 200 });
    await call("employees.getCustomFields page 2", "GET", `/v1/employees/${E0}/custom_fields?page=2&per=1`, { expect: 200 });
    await call("departments.getAll without departments:read", "GET", `/v1/companies/${C}/departments`, { token: LIMITED, expect: 403 });
    const bad = await call("departments.create no title", "POST", `/v1/companies/${C}/departments`, { body: {}, expect: 422 });
    expectError("departments.create no title", bad, { key: "title" });
    const made = await call("departments.create", "POST", `/v1/companies/${C}/departments`, { body: { title: "Conformance" }, expect: 201 });
    const D = made.body && made.body.uuid;
    const up = await call("departments.update", "PUT", `/v1/departments/${D}`, { body: { version: made.body && made.body.version, title: "Conformance 2" }, expect: 200 });
    await call("departments.update stale", "PUT", `/v1/departments/${D}`, { body: { version: made.body && made.body.version, title: "x" }, expect: 409 });
    const E = seeded[0] && seeded[0].employees[0].uuid;
    const add = await call("departments.addPeople", "PUT", `/v1/departments/${D}/add`,
      { body: { version: up.body && up.body.version, employees: [{ uuid: E }] }, expect: 200 });
    await call("departments.delete with people", "DELETE", `/v1/departments/${D}`, { expect: 422 });
    await call("departments.removePeople", "PUT", `/v1/departments/${D}/remove`,
      { body: { version: add.body && add.body.version, employees: [{ uuid: E }] }, expect: 200 });
    await call("departments.delete", "DELETE", `/v1/departments/${D}`, { expect: 204 });
  } finally {
    await stopSandbox(sb);
    if (sb.proc.exitCode && sb.proc.exitCode !== 0) fail("departments sandbox exit", `exit code ${sb.proc.exitCode}\n${sb.stderr().slice(-2000)}`);
  }
}

// The endpoints around the employee record, each response checked against
// the spec; the 501 for what is not emulated; the generated list is current.
async function aroundEmployeeScenario() {
  const NARROW = "narrow-token";
  const sb = await startSandbox({ tokens: [TOKEN, `${NARROW}:companies:read`] });
  BASE = sb.base;
  try {
    const info = await call("around: token_info", "GET", "/v1/token_info", { expect: 200 });
    const C = info.body && info.body.resource && info.body.resource.uuid;
    const emps = await call("around: employees", "GET", `/v1/companies/${C}/employees`, { expect: 200, validateBody: false });
    const list = emps.body || [];
    const E = list[0] && list[0].uuid;
    const onboarding = (list.find((e) => !e.onboarded) || {}).uuid;
    const st = await call("employees.getOnboardingStatus", "GET", `/v1/employees/${E}/onboarding_status`, { expect: 200 });
    check("employees.getOnboardingStatus: steps", st.body && Array.isArray(st.body.onboarding_steps) &&
      st.body.onboarding_steps.length >= 9, () => st.text.slice(0, 200));
    await call("employees.getOnboardingStatus unknown", "GET", `/v1/employees/${NO_SUCH}/onboarding_status`, { expect: 404 });
    await call("employees.getOnboardingStatus scope", "GET", `/v1/employees/${E}/onboarding_status`, { token: NARROW, expect: 403 });
    const bad = await call("employees.updateOnboardingStatus not allowed", "PUT", `/v1/employees/${onboarding}/onboarding_status`,
      { body: { onboarding_status: "self_onboarding_awaiting_admin_review" }, expect: 422 });
    expectError("employees.updateOnboardingStatus not allowed", bad, { key: "onboarding_status" });
    await call("employees.updateOnboardingStatus", "PUT", `/v1/employees/${onboarding}/onboarding_status`,
      { body: { onboarding_status: "self_onboarding_pending_invite" }, expect: 200 });
    await call("employments.getHistory", "GET", `/v1/employees/${E}/employment_history`, { expect: 200 });
    await call("employments.getHistory unknown", "GET", `/v1/employees/${NO_SUCH}/employment_history`, { expect: 404 });
    const ps = await call("payschedules.getAll", "GET", `/v1/companies/${C}/pay_schedules`, { expect: 200 });
    const PS = ps.body && ps.body[0] && ps.body[0].uuid;
    await call("payschedules.get", "GET", `/v1/companies/${C}/pay_schedules/${PS}`, { expect: 200 });
    await call("payschedules.get unknown", "GET", `/v1/companies/${C}/pay_schedules/${NO_SUCH}`, { expect: 404 });
    await call("payschedules.getAssignments", "GET", `/v1/companies/${C}/pay_schedules/assignments`, { expect: 200 });
    await call("payschedules.getPayPeriods", "GET", `/v1/companies/${C}/pay_periods`, { expect: 200 });
    await call("payschedules.getPayPeriods too far", "GET", `/v1/companies/${C}/pay_periods?end_date=2099-01-01`, { expect: 422 });
    await call("earningtypes.get", "GET", `/v1/companies/${C}/earning_types`, { expect: 200 });
    const ks = await call("contractors.list", "GET", `/v1/companies/${C}/contractors`, { expect: 200 });
    check("contractors.list: the seeded two", Array.isArray(ks.body) && ks.body.length === 2, () => ks.text.slice(0, 200));
    await call("contractors.get", "GET", `/v1/contractors/${ks.body && ks.body[0] && ks.body[0].uuid}`, { expect: 200 });
    await call("contractors.get unknown", "GET", `/v1/contractors/${NO_SUCH}`, { expect: 404 });
    await call("signatories.list", "GET", `/v1/companies/${C}/signatories`, { expect: 200 });
    await call("signatories.list scope", "GET", `/v1/companies/${C}/signatories`, { token: NARROW, expect: 403 });
    await call("federaltaxdetails.get", "GET", `/v1/companies/${C}/federal_tax_details`, { expect: 200 });
    await call("taxrequirements.get", "GET", `/v1/companies/${C}/tax_requirements/CA`, { expect: 200 });
    await call("taxrequirements.get not a state", "GET", `/v1/companies/${C}/tax_requirements/ZZ`, { expect: 404 });
    const tr = await call("timeoffrequests.list", "GET", `/v1/companies/${C}/time_off/requests`, { expect: 200 });
    await call("timeoffrequests.get", "GET", `/v1/time_off/requests/${tr.body && tr.body[0] && tr.body[0].uuid}`, { expect: 200 });
    await call("timeoffrequests.get unknown", "GET", `/v1/time_off/requests/${NO_SUCH}`, { expect: 404 });
    await call("timeoff.balances", "GET", `/v1/companies/${C}/time_off/balances`, { expect: 200 });
    const ne = await call("not emulated: payrolls", "GET", `/v1/companies/${C}/payrolls`, { expect: 501 });
    check("not emulated: the message names the operation",
      ne.body && ne.body.errors && /does not emulate GET \/v1\/companies\/\{company_id\}\/payrolls/.test(ne.body.errors[0].message),
      () => ne.text.slice(0, 300));
  } finally {
    await stopSandbox(sb);
    if (sb.proc.exitCode && sb.proc.exitCode !== 0) fail("around-employee sandbox exit", `exit code ${sb.proc.exitCode}\n${sb.stderr().slice(-2000)}`);
  }
  let out = "";
  try {
    out = execFileSync("node", [fileURLToPath(new URL("../../scripts/spec-paths.mjs", import.meta.url)), "--check"],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    pass("spec-paths: src/sandbox/spec_paths.c and docs/sandbox.md match the spec and router.c, and every route checks the spec's scope");
  } catch (e) {
    fail("spec-paths: src/sandbox/spec_paths.c and docs/sandbox.md match the spec and router.c, and every route checks the spec's scope", `${e.stderr || e.message}${out}`);
  }
}
