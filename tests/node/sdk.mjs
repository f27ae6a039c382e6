// SDK test: drive gusto-sandbox through Gusto's official TypeScript SDK
// (@gusto/embedded-api 0.16.0, Speakeasy-generated, zod-validated responses).
// Every SDK call that should succeed is one counted check; any exception
// (including SDKValidationError / ResponseValidationError from zod) is a
// failure and its full message, zod issues included, is printed.
//
//   node tests/node/sdk.mjs
import { GustoEmbedded } from "@gusto/embedded-api";
import { HTTPClient } from "@gusto/embedded-api/lib/http.js";
import { RFCDate } from "@gusto/embedded-api/types/rfcdate.js";
import {
  startSandbox, stopSandbox, pass, fail, check, runMain, todayYMD,
} from "./lib.mjs";

// The SDK 0.16.0 sends X-Gusto-API-Version: 2025-06-15 on every call (each
// operation's header defaults to it, and its enum allows nothing else),
// which Gusto retired after 2026-11-17: as published it gets 406 from Gusto
// and from the sandbox.  No newer 0.x release exists (1.0.0 is another
// client altogether), so the calls go through the SDK's documented
// HTTPClient "beforeRequest" hook (README, "Custom HTTP Client"), which sets
// the version libgusto sends by default.
const API_VERSION = "2026-12-01";
function versionedHttp() {
  const http = new HTTPClient();
  http.addHook("beforeRequest", (request) => {
    const next = new Request(request);
    next.headers.set("X-Gusto-API-Version", API_VERSION);
    return next;
  });
  return http;
}
// new GustoEmbedded with the version hook.
function sdk(opts) {
  return new GustoEmbedded({ ...opts, httpClient: versionedHttp() });
}

const TOKEN = "sdk-token";
const LIMITED = "sdk-limited";
const NO_SUCH = "00000000-0000-4000-8000-000000000000";

function describe(e) {
  let s = `${e && e.name ? e.name : "Error"}: `;
  const hm = e && e.httpMeta;
  if (e && typeof e.pretty === "function") s += e.pretty();
  else if (hm && hm.response) s += "HTTP error";
  else s += (e && (e.stack || e.message)) || String(e);
  if (hm && hm.response) {
    s += `\nHTTP ${hm.request ? hm.request.method + " " + new URL(hm.request.url).pathname + new URL(hm.request.url).search : ""} -> ${hm.response.status}`;
    if (hm.body) s += `\nbody: ${String(hm.body).slice(0, 600)}`;
  }
  if (e && e.rawValue !== undefined && !(hm && hm.body)) {
    s += `\nraw: ${JSON.stringify(e.rawValue).slice(0, 600)}`;
  }
  return s;
}

/**
 * One counted SDK step.  fn returns the value for later steps; assert(value)
 * returns true or a failure string.  An exception is a failure.
 */
async function step(name, fn, assert) {
  let v;
  try {
    v = await fn();
  } catch (e) {
    fail(name, describe(e));
    return undefined;
  }
  if (assert) {
    let r;
    try { r = assert(v); } catch (e) { r = `assertion threw: ${e.message}`; }
    if (r !== true) {
      fail(name, typeof r === "string" ? r : `unexpected result: ${JSON.stringify(v, (k, x) => (k === "httpMeta" ? undefined : x)).slice(0, 400)}`);
      return v;
    }
  }
  pass(name);
  return v;
}

/** A step that must throw an SDK error with the given HTTP status. */
async function stepThrows(name, fn, status, className, more) {
  try {
    const v = await fn();
    fail(name, `expected HTTP ${status} error, call succeeded: ${JSON.stringify(v, (k, x) => (k === "httpMeta" ? undefined : x)).slice(0, 300)}`);
    return;
  } catch (e) {
    const got = e && e.httpMeta && e.httpMeta.response && e.httpMeta.response.status;
    if (got !== status) return fail(name, `expected HTTP ${status}, got ${describe(e)}`);
    if (className && e.name !== className) return fail(name, `expected ${className}, got ${describe(e)}`);
    if (more) {
      const r = more(e);
      if (r !== true) return fail(name, `${typeof r === "string" ? r : "error detail mismatch"}; ${describe(e)}`);
    }
    pass(name);
  }
}

const hdr = (res, n) => res && res.httpMeta && res.httpMeta.response.headers.get(n);
const same = (d, s) => (d instanceof RFCDate ? d.toString() : d) === s;

async function scenario(base) {
  // As published: its default version is retired, so Gusto's 406.
  const plain = new GustoEmbedded({ serverURL: base, companyAccessAuth: TOKEN, timeoutMs: 10000 });
  await stepThrows("SDK as published (2025-06-15, retired): 406", () => plain.introspection.getInfo({}), 406);
  const echo = await fetch(`${base}/v1/token_info`, { headers: { Authorization: `Bearer ${TOKEN}`, "X-Gusto-API-Version": API_VERSION } });
  check(`the sandbox serves the hook's version ${API_VERSION}`, echo.headers.get("x-gusto-api-version") === API_VERSION,
    `got ${echo.headers.get("x-gusto-api-version")}`);
  const gusto = sdk({ serverURL: base, companyAccessAuth: TOKEN, timeoutMs: 10000 });
  const limited = sdk({ serverURL: base, companyAccessAuth: LIMITED, timeoutMs: 10000 });

  const ti = await step("introspection.getInfo: company token", () => gusto.introspection.getInfo({}),
    (r) => (r.tokenInfo && r.tokenInfo.resource && r.tokenInfo.resource.type === "Company" && r.tokenInfo.resource.uuid ? true : "no Company resource"));
  const companyId = ti && ti.tokenInfo && ti.tokenInfo.resource && ti.tokenInfo.resource.uuid;
  if (!companyId) throw new Error("cannot continue without a company uuid");
  check(`SDK calls are served at ${API_VERSION} (the hook's header)`, hdr(ti, "x-gusto-api-version") === API_VERSION,
    `got ${hdr(ti, "x-gusto-api-version")}`);

  await step("companies.get", () => gusto.companies.get({ companyId }),
    (r) => (r.company && r.company.uuid === companyId && typeof r.company.name === "string" ? true : `company=${JSON.stringify(r.company)}`));

  // ---- locations
  const locs = await step("locations.get (list)", () => gusto.locations.get({ companyId }),
    (r) => (Array.isArray(r.companyLocationsList) && r.companyLocationsList.length > 0 ? true : "empty location list"));
  const nl = await step("locations.create", () => gusto.locations.create({
    companyId,
    companyLocationRequest: { street1: "500 SDK Blvd", city: "Portland", state: "OR", zip: "97201", phoneNumber: "5035550100" },
  }), (r) => (r.location && r.location.street1 === "500 SDK Blvd" && r.location.country === "USA" && r.location.version ? true : JSON.stringify(r.location)));
  const loc = nl && nl.location;
  if (loc) {
    await step("locations.retrieve", () => gusto.locations.retrieve({ locationId: loc.uuid }),
      (r) => (r.location && r.location.version === loc.version ? true : `version ${r.location && r.location.version} vs ${loc.version}`));
    const lu = await step("locations.update: city changes, version bumps", () => gusto.locations.update({
      locationId: loc.uuid, requestBody: { version: loc.version, city: "Salem", zip: "97301" },
    }), (r) => (r.location && r.location.city === "Salem" && r.location.version !== loc.version ? true : JSON.stringify(r.location)));
    if (lu && lu.location) loc.version = lu.location.version;
    await stepThrows("locations.update stale version -> 409 UnprocessableEntityError",
      () => gusto.locations.update({ locationId: loc.uuid, requestBody: { version: "stale-version", city: "Eugene" } }), 409);
  }
  void locs;

  // ---- employees
  const list = await step("employees.list", () => gusto.employees.list({ companyId }),
    (r) => (Array.isArray(r.showEmployees) && r.showEmployees.length >= 40 ? true : `got ${r.showEmployees && r.showEmployees.length}`));
  const emps = (list && list.showEmployees) || [];
  await step("employees.list page=2 per=7: 7 items and X-Total-Count", () => gusto.employees.list({ companyId, page: 2, per: 7 }),
    (r) => (r.showEmployees && r.showEmployees.length === Math.min(7, Math.max(0, emps.length - 7)) && hdr(r, "x-total-count") === String(emps.length) && hdr(r, "x-page") === "2"
      ? true : `len=${r.showEmployees && r.showEmployees.length} x-total-count=${hdr(r, "x-total-count")} x-page=${hdr(r, "x-page")}`));
  const target = emps.find((e) => !e.terminated && e.onboarded) || emps[0];
  if (target) {
    await step(`employees.list searchTerm=${target.lastName}`, () => gusto.employees.list({ companyId, searchTerm: target.lastName }),
      (r) => (r.showEmployees && r.showEmployees.some((e) => e.uuid === target.uuid) ? true : "target not found"));
  }
  await step("employees.list terminated=true", () => gusto.employees.list({ companyId, terminated: true }),
    (r) => (r.showEmployees && r.showEmployees.length > 0 && r.showEmployees.every((e) => e.terminated || (e.terminations && e.terminations.length)) ? true : `got ${r.showEmployees && r.showEmployees.length}`));
  await step("employees.list include=(all six include values)",
    () => gusto.employees.list({ companyId, include: ["current_home_address", "all_home_addresses", "all_compensations", "company_name", "custom_fields", "portal_invitations"], page: 1, per: 10 }),
    (r) => (r.showEmployees && r.showEmployees.some((e) => e.currentHomeAddress) && r.showEmployees.every((e) => Array.isArray(e.allHomeAddresses) && Array.isArray(e.customFields))
      ? true : "currentHomeAddress/allHomeAddresses/customFields missing"));
  await step("limited token (no compensations:read): employees.list parses jobs without pay fields",
    () => limited.employees.list({ companyId, page: 1, per: 10 }),
    (r) => (r.showEmployees && r.showEmployees.length === 10 && r.showEmployees.every((e) => (e.jobs || []).every((j) => j.rate === undefined)) ? true : "pay fields leaked or wrong length"));

  const ce = await step("employees.create", () => gusto.employees.create({
    companyId,
    requestBody: { firstName: "Grace", lastName: "Sdkington", email: "grace.sdk@example.com", dateOfBirth: new RFCDate("1985-06-15"), ssn: "987654321" },
  }), (r) => (r.employee && r.employee.firstName === "Grace" && r.employee.version && r.employee.hasSsn === true ? true : JSON.stringify(r.employee).slice(0, 300)));
  const emp = ce && ce.employee;
  await stepThrows("employees.create bad ssn -> 422 UnprocessableEntityError naming ssn",
    () => gusto.employees.create({ companyId, requestBody: { firstName: "X", lastName: "Y", ssn: "12-34" } }), 422, "UnprocessableEntityError",
    (e) => (Array.isArray(e.errors) && e.errors.some((x) => x.errorKey === "ssn") ? true : "no ssn error"));
  await stepThrows("employees.get unknown -> 404 NotFoundErrorObject", () => gusto.employees.get({ employeeId: NO_SUCH }), 404, "NotFoundErrorObject",
    (e) => (Array.isArray(e.errors) && e.errors.length > 0 ? true : "no errors array"));
  if (emp) {
    await step("employees.get", () => gusto.employees.get({ employeeId: emp.uuid }),
      (r) => (r.employee && r.employee.uuid === emp.uuid && r.employee.version === emp.version ? true : `version ${r.employee && r.employee.version} vs ${emp.version}`));
    const u = await step("employees.update: firstName changes, version bumps", () => gusto.employees.update({
      employeeId: emp.uuid, requestBody: { version: emp.version, firstName: "Gracie", workEmail: "gracie@work.example.com" },
    }), (r) => (r.employee && r.employee.firstName === "Gracie" && r.employee.workEmail === "gracie@work.example.com" && r.employee.version !== emp.version ? true : JSON.stringify(r.employee).slice(0, 300)));
    await stepThrows("employees.update stale version -> 409 UnprocessableEntityError invalid_resource_version",
      () => gusto.employees.update({ employeeId: emp.uuid, requestBody: { version: emp.version, firstName: "Stale" } }), 409, "UnprocessableEntityError",
      (e) => (e.errors.some((x) => x.category === "invalid_resource_version") ? true : "category not invalid_resource_version"));
    if (u && u.employee) emp.version = u.employee.version;
  }
  if (target) {
    await step("employees.get include=custom_fields,all_compensations",
      () => gusto.employees.get({ employeeId: target.uuid, include: ["custom_fields", "all_compensations"] }),
      (r) => (r.employee && r.employee.uuid === target.uuid ? true : "wrong employee"));
  }

  const E = target && target.uuid;
  if (E) {
    // ---- home addresses
    const future = todayYMD(380);
    await step("employeeAddresses.get (home list)", () => gusto.employeeAddresses.get({ employeeId: E }),
      (r) => (Array.isArray(r.employeeAddressList) && r.employeeAddressList.filter((a) => a.active).length === 1 ? true : `list=${JSON.stringify(r.employeeAddressList).slice(0, 300)}`));
    const hc = await step("employeeAddresses.create (home)", () => gusto.employeeAddresses.create({
      employeeId: E, requestBody: { street1: "77 SDK Lane", city: "Madison", state: "WI", zip: "53703", effectiveDate: new RFCDate(future), courtesyWithholding: false },
    }), (r) => (r.employeeAddress && r.employeeAddress.street1 === "77 SDK Lane" && same(r.employeeAddress.effectiveDate, future) && r.employeeAddress.version ? true : JSON.stringify(r.employeeAddress)));
    const ha = hc && hc.employeeAddress;
    if (ha) {
      await step("employeeAddresses.retrieveHomeAddress", () => gusto.employeeAddresses.retrieveHomeAddress({ homeAddressUuid: ha.uuid }),
        (r) => (r.employeeAddress && r.employeeAddress.version === ha.version ? true : "version differs"));
      await step("employeeAddresses.update (home): street2 changes, version bumps", () => gusto.employeeAddresses.update({
        homeAddressUuid: ha.uuid, requestBody: { version: ha.version, street2: "Unit 9" },
      }), (r) => (r.employeeAddress && r.employeeAddress.street2 === "Unit 9" && r.employeeAddress.version !== ha.version ? true : JSON.stringify(r.employeeAddress)));
      // A stale version is a 422 on addresses, jobs and compensations (docs/sandbox.md, "Stale versions").
      await stepThrows("employeeAddresses.update (home) stale version -> 422",
        () => gusto.employeeAddresses.update({ homeAddressUuid: ha.uuid, requestBody: { version: ha.version, street2: "Stale" } }), 422);
      await step("employeeAddresses.delete (home)", () => gusto.employeeAddresses.delete({ homeAddressUuid: ha.uuid }), () => true);
    }

    // ---- work addresses
    await step("employeeAddresses.getWorkAddresses", () => gusto.employeeAddresses.getWorkAddresses({ employeeId: E }),
      (r) => (Array.isArray(r.employeeWorkAddressesList) && r.employeeWorkAddressesList.length > 0 ? true : "empty"));
    if (loc) {
      const wc = await step("employeeAddresses.createWorkAddress", () => gusto.employeeAddresses.createWorkAddress({
        employeeId: E, requestBody: { locationUuid: loc.uuid, effectiveDate: new RFCDate(future) },
      }), (r) => (r.employeeWorkAddress && r.employeeWorkAddress.locationUuid === loc.uuid && r.employeeWorkAddress.city === "Salem" ? true : JSON.stringify(r.employeeWorkAddress)));
      const wa = wc && wc.employeeWorkAddress;
      if (wa) {
        await step("employeeAddresses.retrieveWorkAddress", () => gusto.employeeAddresses.retrieveWorkAddress({ workAddressUuid: wa.uuid }),
          (r) => (r.employeeWorkAddress && r.employeeWorkAddress.version === wa.version ? true : "version differs"));
        const f2 = todayYMD(390);
        await step("employeeAddresses.updateWorkAddress: effectiveDate changes, version bumps", () => gusto.employeeAddresses.updateWorkAddress({
          workAddressUuid: wa.uuid, requestBody: { version: wa.version, effectiveDate: new RFCDate(f2) },
        }), (r) => (r.employeeWorkAddress && same(r.employeeWorkAddress.effectiveDate, f2) && r.employeeWorkAddress.version !== wa.version ? true : JSON.stringify(r.employeeWorkAddress)));
        await step("employeeAddresses.deleteWorkAddress", () => gusto.employeeAddresses.deleteWorkAddress({ workAddressUuid: wa.uuid }), () => true);
      }
    }

    // ---- jobs on a seeded employee
    const jobs = await step("jobsAndCompensations.getJobs", () => gusto.jobsAndCompensations.getJobs({ employeeId: E }),
      (r) => (Array.isArray(r.jobs) && r.jobs.length > 0 && r.jobs.some((j) => j.primary) ? true : "no jobs / no primary"));
    const j0 = jobs && jobs.jobs && jobs.jobs[0];
    if (j0) {
      await step("jobsAndCompensations.getCompensations (seeded job)", () => gusto.jobsAndCompensations.getCompensations({ jobId: j0.uuid }),
        (r) => (Array.isArray(r.compensations) && r.compensations.length > 0 && r.compensations.every((c) => c.jobUuid === j0.uuid) ? true : "bad compensations"));
    }

    // ---- time off
    let found = false;
    for (const e of emps.filter((x) => !x.terminated).slice(0, 8)) {
      try {
        const r = await gusto.employees.getTimeOffActivities({ employeeUuid: e.uuid, timeOffType: "vacation" });
        if (Array.isArray(r.timeOffActivityList) && r.timeOffActivityList.length > 0) {
          found = true;
          check("employees.getTimeOffActivities vacation: items are vacation",
            r.timeOffActivityList.every((a) => a.timeOffType === "vacation"), JSON.stringify(r.timeOffActivityList[0]));
          await step("employees.getTimeOffActivities sick", () => gusto.employees.getTimeOffActivities({ employeeUuid: e.uuid, timeOffType: "sick" }),
            (s) => (Array.isArray(s.timeOffActivityList) && s.timeOffActivityList.every((a) => a.timeOffType === "sick") ? true : "bad sick list"));
          break;
        }
      } catch (err) {
        fail(`employees.getTimeOffActivities vacation ${e.uuid}`, describe(err));
        found = true;
        break;
      }
    }
    check("employees.getTimeOffActivities: some seeded employee has vacation activity", found, "none of the first 8 active employees had any");

    // ---- scopes through the SDK
    await stepThrows("limited token: jobsAndCompensations.getJobs -> 403", () => limited.jobsAndCompensations.getJobs({ employeeId: E }), 403);
  }

  // ---- jobs and compensations on the new employee
  if (emp) {
    const hire = todayYMD(0);
    const jc = await step("jobsAndCompensations.createJob", () => gusto.jobsAndCompensations.createJob({
      employeeId: emp.uuid, jobsCreateRequestBody: { title: "SDK Engineer", hireDate: hire },
    }), (r) => (r.job && r.job.title === "SDK Engineer" && r.job.hireDate === hire && r.job.version &&
      // Gusto's flow: the job comes with a $0 hourly compensation from the hire date.
      Array.isArray(r.job.compensations) && r.job.compensations.length === 1 &&
      r.job.compensations[0].paymentUnit === "Hour" && r.job.compensations[0].flsaStatus === "Nonexempt" &&
      r.job.compensations[0].effectiveDate === hire && r.job.currentCompensationUuid === r.job.compensations[0].uuid
      ? true : JSON.stringify(r.job).slice(0, 400)));
    const job = jc && jc.job;
    if (job) {
      await step("jobsAndCompensations.getJobs (new employee)", () => gusto.jobsAndCompensations.getJobs({ employeeId: emp.uuid }),
        (r) => (r.jobs && r.jobs.some((j) => j.uuid === job.uuid) ? true : "new job missing"));
      await step("jobsAndCompensations.getJob", () => gusto.jobsAndCompensations.getJob({ jobId: job.uuid }),
        (r) => (r.job && r.job.uuid === job.uuid && r.job.version === job.version ? true : "version differs"));
      const ju = await step("jobsAndCompensations.update: title changes, version bumps", () => gusto.jobsAndCompensations.update({
        jobId: job.uuid, jobsUpdateRequestBody: { version: job.version, title: "Staff SDK Engineer" },
      }), (r) => (r.job && r.job.title === "Staff SDK Engineer" && r.job.version !== job.version ? true : JSON.stringify(r.job).slice(0, 300)));
      void ju;
      await stepThrows("jobsAndCompensations.update stale version -> 422",
        () => gusto.jobsAndCompensations.update({ jobId: job.uuid, jobsUpdateRequestBody: { version: job.version, title: "Stale" } }), 422);

      // Onboarding sets the pay of the job's own compensation (PUT), as Gusto's guide does.
      const stub = job.compensations && job.compensations[0];
      if (stub) {
        await step("jobsAndCompensations.updateCompensation (the job's own, at hire date)", () => gusto.jobsAndCompensations.updateCompensation({
          compensationId: stub.uuid, compensationsUpdateRequestBody: { version: stub.version, rate: "80000.00", paymentUnit: "Year", flsaStatus: "Exempt" },
        }), (r) => (r.compensation && r.compensation.effectiveDate === hire && r.compensation.rate === "80000.00" ? true : JSON.stringify(r.compensation)));
      }
      const eff = todayYMD(45);
      const cc = await step("jobsAndCompensations.createCompensation", () => gusto.jobsAndCompensations.createCompensation({
        jobId: job.uuid, compensationsRequestBody: { rate: "85000.00", paymentUnit: "Year", flsaStatus: "Exempt", effectiveDate: eff },
      }), (r) => (r.compensation && r.compensation.rate === "85000.00" && r.compensation.paymentUnit === "Year" && r.compensation.flsaStatus === "Exempt" ? true : JSON.stringify(r.compensation)));
      const comp = cc && cc.compensation;
      await step("jobsAndCompensations.getCompensations (new job)", () => gusto.jobsAndCompensations.getCompensations({ jobId: job.uuid, include: "all_compensations" }),
        (r) => (Array.isArray(r.compensations) && (!comp || r.compensations.some((c) => c.uuid === comp.uuid)) ? true : `list=${JSON.stringify(r.compensations).slice(0, 300)}`));
      if (comp) {
        await step("jobsAndCompensations.getCompensation", () => gusto.jobsAndCompensations.getCompensation({ compensationId: comp.uuid }),
          (r) => (r.compensation && r.compensation.version === comp.version ? true : "version differs"));
        await step("jobsAndCompensations.updateCompensation: rate changes, version bumps", () => gusto.jobsAndCompensations.updateCompensation({
          compensationId: comp.uuid, compensationsUpdateRequestBody: { version: comp.version, rate: "90000.00" },
        }), (r) => (r.compensation && r.compensation.rate === "90000.00" && r.compensation.version !== comp.version ? true : JSON.stringify(r.compensation)));
        await stepThrows("jobsAndCompensations.updateCompensation stale version -> 422",
          () => gusto.jobsAndCompensations.updateCompensation({ compensationId: comp.uuid, compensationsUpdateRequestBody: { version: comp.version, rate: "1.00" } }), 422);
        await step("jobsAndCompensations.deleteCompensation", () => gusto.jobsAndCompensations.deleteCompensation({ compensationId: comp.uuid }), () => true);
      }
      await stepThrows("jobsAndCompensations.getJob unknown -> 404", () => gusto.jobsAndCompensations.getJob({ jobId: NO_SUCH }), 404, "NotFoundErrorObject");
    }
    // Terminations and rehire (employeeEmployments), on a seeded active employee.
    // Gusto's terminate guide: a hire date is required (a job's); onboarding alone is no bar.
    const nohire = await step("employees.create (no job, so no hire date)", () => gusto.employees.create({ companyId, requestBody: { firstName: "No", lastName: "Hire" } }),
      (r) => (r.employee && r.employee.uuid ? true : "no uuid"));
    if (nohire && nohire.employee) {
      await stepThrows("employeeEmployments.createTermination without a hire date -> 422",
        () => gusto.employeeEmployments.createTermination({ employeeId: nohire.employee.uuid, requestBody: { effectiveDate: todayYMD() } }), 422);
    }
    const act = await step("employees.list: an onboarded, active employee to terminate", () => gusto.employees.list({ companyId, terminated: false }),
      (r) => (Array.isArray(r.showEmployees) && r.showEmployees.some((e) => e.onboarded && !e.terminated) ? true : "none"));
    const leaver = act && act.showEmployees && act.showEmployees.filter((e) => e.onboarded && !e.terminated).pop();
    const lid = leaver && leaver.uuid;
    if (lid) {
      const past = new Date(Date.now() - 86400000).toISOString().slice(0, 10);
      await step("employeeEmployments.createTermination (yesterday)", () => gusto.employeeEmployments.createTermination({ employeeId: lid, requestBody: { effectiveDate: past } }),
        (r) => (r.termination && r.termination.employeeUuid === lid && r.termination.active === true ? true : JSON.stringify(r.termination)));
      await step("employeeEmployments.getTerminations lists it", () => gusto.employeeEmployments.getTerminations({ employeeId: lid }),
        (r) => (Array.isArray(r.terminations) && r.terminations.length === 1 ? true : JSON.stringify(r).slice(0, 300)));
      await step("employees.get: terminated", () => gusto.employees.get({ employeeId: lid }),
        (r) => (r.employee && r.employee.terminated === true ? true : `terminated=${r.employee && r.employee.terminated}`));
      await stepThrows("employeeEmployments.createTermination twice -> 422",
        () => gusto.employeeEmployments.createTermination({ employeeId: lid, requestBody: { effectiveDate: past } }), 422);
      const locs = await gusto.locations.get({ companyId });
      const loc = locs.companyAddressList ? locs.companyAddressList[0] : (locs.locationList || [])[0];
      if (loc) {
        await step("employeeEmployments.createRehire", () => gusto.employeeEmployments.createRehire({ employeeId: lid, rehireBody: { effectiveDate: todayYMD(), fileNewHireReport: false, workLocationUuid: loc.uuid } }),
          (r) => (r.rehire && r.rehire.employeeUuid === lid ? true : JSON.stringify(r.rehire)));
        await step("employeeEmployments.getRehire", () => gusto.employeeEmployments.getRehire({ employeeId: lid }),
          (r) => (r.rehire && r.rehire.effectiveDate ? true : JSON.stringify(r.rehire)));
      }
    }
    const tmp = await step("employees.create (to delete)", () => gusto.employees.create({ companyId, requestBody: { firstName: "Tmp", lastName: "Sdk" } }),
      (r) => (r.employee ? true : "no employee"));
    if (tmp && tmp.employee) {
      await step("employees.delete", () => gusto.employees.delete({ employeeId: tmp.employee.uuid }), () => true);
    }
  }
}

// A partner's system access token (grant_type=system_access) and the
// webhook endpoints that need it, with a loopback receiver for the handshake.
async function systemScenario(base, companyId) {
  const http = await import("node:http");
  const got = [];
  const server = http.createServer((req, res) => {
    let b = "";
    req.on("data", (c) => { b += c; });
    req.on("end", () => { got.push(b); res.writeHead(200).end("{}"); });
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  const hookUrl = `http://127.0.0.1:${server.address().port}/hooks`;
  try {
    const anon = sdk({ serverURL: base, timeoutMs: 10000 });
    await stepThrows("introspection.oauthAccessToken system_access, wrong secret -> 401",
      () => anon.introspection.oauthAccessToken({ requestBody: { clientId: "sdk-app", clientSecret: "nope", grantType: "system_access" } }), 401);
    const tok = await step("introspection.oauthAccessToken system_access: a token, no refresh token",
      () => anon.introspection.oauthAccessToken({ requestBody: { clientId: "sdk-app", clientSecret: "sdk-app-secret", grantType: "system_access" } }),
      (r) => (r.authentication && r.authentication.accessToken && r.authentication.expiresIn > 0 && !r.authentication.refreshToken
        ? true : JSON.stringify(r.authentication)));
    const sys = tok && tok.authentication && tok.authentication.accessToken;
    if (!sys) return;
    const sysClient = sdk({ serverURL: base, companyAccessAuth: sys, timeoutMs: 10000 });
    await step("introspection.getInfo: system token is an Oauth::Application", () => sysClient.introspection.getInfo({}),
      (r) => (r.tokenInfo && r.tokenInfo.resource && r.tokenInfo.resource.type === "Oauth::Application" && r.tokenInfo.resourceOwner == null
        ? true : JSON.stringify(r.tokenInfo)));
    await stepThrows("system token cannot read a company's employees -> 403",
      () => sysClient.employees.list({ companyId }), 403);
    const security = { systemAccessAuth: sys };
    const sub = await step("webhooks.createSubscription (system token): pending",
      () => anon.webhooks.createSubscription(security, { requestBody: { url: hookUrl, subscriptionTypes: ["Employee"] } }),
      (r) => (r.webhookSubscription && r.webhookSubscription.status === "pending" ? true : JSON.stringify(r.webhookSubscription)));
    const uuid = sub && sub.webhookSubscription && sub.webhookSubscription.uuid;
    if (!uuid) return;
    for (let i = 0; i < 50 && !got.some((b) => b.includes("verification_token")); i++) await new Promise((ok) => setTimeout(ok, 100));
    const hs = got.map((b) => { try { return JSON.parse(b); } catch { return {}; } }).find((b) => b.verification_token);
    // Both webhooks guides: the handshake body is {"verification_token"} alone.
    check("webhook handshake POSTed the verification token alone to the subscriber", !!hs && Object.keys(hs).length === 1 && typeof hs.verification_token === "string", JSON.stringify(got).slice(0, 300));
    if (hs) {
      await step("webhooks.verify with the token: verified",
        () => anon.webhooks.verify(security, { webhookSubscriptionUuid: uuid, requestBody: { verificationToken: hs.verification_token } }),
        (r) => (r.webhookSubscription && r.webhookSubscription.status === "verified" ? true : JSON.stringify(r.webhookSubscription)));
    }
    await step("webhooks.listSubscriptions (system token) has it", () => anon.webhooks.listSubscriptions(security, {}),
      (r) => (Array.isArray(r.webhookSubscriptions) && r.webhookSubscriptions.some((w) => w.uuid === uuid) ? true : JSON.stringify(r.webhookSubscriptions)));
    await step("webhooks.getSubscription", () => anon.webhooks.getSubscription(security, { webhookSubscriptionUuid: uuid }),
      (r) => (r.webhookSubscription && r.webhookSubscription.uuid === uuid ? true : "wrong subscription"));
    await step("webhooks.updateSubscription: types change", () => anon.webhooks.updateSubscription(security, { webhookSubscriptionUuid: uuid, requestBody: { subscriptionTypes: ["Employee", "Company"] } }),
      (r) => (r.webhookSubscription && r.webhookSubscription.subscriptionTypes.length === 2 ? true : JSON.stringify(r.webhookSubscription)));
    // An event for the company reaches the app's subscription.
    const company = sdk({ serverURL: base, companyAccessAuth: TOKEN, timeoutMs: 10000 });
    const made = await step("employees.create fires employee.created", () => company.employees.create({ companyId, requestBody: { firstName: "Hook", lastName: "Sdk" } }),
      (r) => (r.employee ? true : "no employee"));
    const emp = made && made.employee && made.employee.uuid;
    for (let i = 0; i < 50 && !got.some((b) => emp && b.includes(emp)); i++) await new Promise((ok) => setTimeout(ok, 100));
    const ev = got.map((b) => { try { return JSON.parse(b); } catch { return {}; } }).find((b) => b.entity_uuid === emp);
    check("the system subscription receives the company's employee.created", !!ev && ev.event_type === "employee.created" && ev.resource_uuid === companyId, JSON.stringify(got).slice(-300));
    await step("webhooks.getV1WebhooksHealthCheck: healthy after a delivery", () => anon.webhooks.getV1WebhooksHealthCheck(security, {}),
      (r) => (r.webhooksHealthCheckStatus && r.webhooksHealthCheckStatus.status === "healthy" ? true : JSON.stringify(r)));
    await stepThrows("webhooks.getSubscription with no token -> 401",
      () => anon.webhooks.getSubscription({ systemAccessAuth: "" }, { webhookSubscriptionUuid: uuid }), 401);
    await stepThrows("the company token does not see the app's subscription -> 404",
      () => anon.webhooks.getSubscription({ systemAccessAuth: TOKEN }, { webhookSubscriptionUuid: uuid }), 404);
    await step("webhooks.deleteSubscription", () => anon.webhooks.deleteSubscription(security, { webhookSubscriptionUuid: uuid }), () => true);
  } finally {
    server.close();
  }
}

// Time Off Policies through the SDK: every operation, each answer parsed
// by the SDK's own schemas.
async function timeOffPolicyScenario(gusto, companyUuid) {
  const all = await step("timeOffPolicies.getAll", () => gusto.timeOffPolicies.getAll({ companyUuid }),
    (r) => (Array.isArray(r.timeOffPolicies) && r.timeOffPolicies.length >= 2 &&
      r.timeOffPolicies.some((p) => p.policyType === "vacation" && p.employees.length > 0) ? true : JSON.stringify(r.timeOffPolicies).slice(0, 300)));
  const seeded = all && all.timeOffPolicies[0];
  if (seeded) {
    await step("timeOffPolicies.get", () => gusto.timeOffPolicies.get({ timeOffPolicyUuid: seeded.uuid }),
      (r) => (r.timeOffPolicy && r.timeOffPolicy.uuid === seeded.uuid && r.timeOffPolicy.isActive === true ? true : JSON.stringify(r.timeOffPolicy).slice(0, 300)));
  }
  await stepThrows("timeOffPolicies.get unknown -> 404", () => gusto.timeOffPolicies.get({ timeOffPolicyUuid: NO_SUCH }), 404);
  const made = await step("timeOffPolicies.create", () => gusto.timeOffPolicies.create({ companyUuid,
    timeOffPolicyRequest: { name: "SDK Sick", policyType: "sick", accrualMethod: "per_hour_paid", accrualRate: "1.0", accrualRateUnit: "30.0" } }),
  (r) => (r.timeOffPolicy && r.timeOffPolicy.name === "SDK Sick" && r.timeOffPolicy.employees.length === 0 && r.timeOffPolicy.version ? true : JSON.stringify(r.timeOffPolicy).slice(0, 300)));
  const pol = made && made.timeOffPolicy;
  if (!pol) return;
  const up = await step("timeOffPolicies.update: max_hours, version moves", () => gusto.timeOffPolicies.update({ timeOffPolicyUuid: pol.uuid,
    requestBody: { version: pol.version, maxHours: "40.0" } }),
  (r) => (r.timeOffPolicy && r.timeOffPolicy.maxHours === "40.0" && r.timeOffPolicy.version !== pol.version ? true : JSON.stringify(r.timeOffPolicy).slice(0, 300)));
  void up;
  await stepThrows("timeOffPolicies.update stale version -> 409", () => gusto.timeOffPolicies.update({ timeOffPolicyUuid: pol.uuid,
    requestBody: { version: pol.version, maxHours: "41.0" } }), 409);
  const emps = await gusto.employees.list({ companyId: companyUuid, terminated: false });
  const emp = (emps.showEmployees || []).find((e) => e.jobs && e.jobs.length);
  if (!emp) return fail("timeOffPolicies: an employee with a job", "none");
  // One policy of each type: Gusto refuses a second sick policy, so take the
  // employee off the seeded one first (and expect the refusal before that).
  const seededSick = all && all.timeOffPolicies.find((p) => p.policyType === "sick" && p.uuid !== pol.uuid);
  await stepThrows("timeOffPolicies.addEmployees to a second sick policy -> 422", () => gusto.timeOffPolicies.addEmployees({ timeOffPolicyUuid: pol.uuid,
    requestBody: { employees: [{ uuid: emp.uuid, balance: "3.0" }] } }), 422);
  if (seededSick) {
    await step("timeOffPolicies.removeEmployees from the seeded sick policy", () => gusto.timeOffPolicies.removeEmployees({ timeOffPolicyUuid: seededSick.uuid,
      requestBody: { employees: [{ uuid: emp.uuid }] } }),
    (r) => (r.timeOffPolicy && !r.timeOffPolicy.employees.some((e) => e.uuid === emp.uuid) ? true : JSON.stringify(r.timeOffPolicy).slice(0, 300)));
  }
  await step("timeOffPolicies.addEmployees", () => gusto.timeOffPolicies.addEmployees({ timeOffPolicyUuid: pol.uuid,
    requestBody: { employees: [{ uuid: emp.uuid, balance: "3.0" }] } }),
  (r) => (r.timeOffPolicy && r.timeOffPolicy.employees.length === 1 && r.timeOffPolicy.employees[0].balance === "3.0" ? true : JSON.stringify(r.timeOffPolicy).slice(0, 300)));
  await step("timeOffPolicies.updateBalance", () => gusto.timeOffPolicies.updateBalance({ timeOffPolicyUuid: pol.uuid,
    requestBody: { employees: [{ uuid: emp.uuid, balance: "5.5" }] } }),
  (r) => (r.timeOffPolicy && r.timeOffPolicy.employees[0].balance === "5.5" ? true : JSON.stringify(r.timeOffPolicy).slice(0, 300)));
  await step("employees.get: the new policy's balance in eligible_paid_time_off", () => gusto.employees.get({ employeeId: emp.uuid }),
    (r) => ((r.employee.eligiblePaidTimeOff || []).some((p) => p.policyUuid === pol.uuid && p.accrualBalance === "5.5") ? true : JSON.stringify(r.employee.eligiblePaidTimeOff).slice(0, 300)));
  await step("timeOffPolicies.removeEmployees", () => gusto.timeOffPolicies.removeEmployees({ timeOffPolicyUuid: pol.uuid,
    requestBody: { employees: [{ uuid: emp.uuid }] } }),
  (r) => (r.timeOffPolicy && r.timeOffPolicy.employees.length === 0 ? true : JSON.stringify(r.timeOffPolicy).slice(0, 300)));
  await stepThrows("timeOffPolicies.addEmployees with none -> 422", () => gusto.timeOffPolicies.addEmployees({ timeOffPolicyUuid: pol.uuid,
    requestBody: { employees: [] } }), 422);
  await step("timeOffPolicies.deactivate", () => gusto.timeOffPolicies.deactivate({ timeOffPolicyUuid: pol.uuid }),
    (r) => (r.timeOffPolicy && r.timeOffPolicy.isActive === false && r.timeOffPolicy.version === null ? true : JSON.stringify(r.timeOffPolicy).slice(0, 300)));
}

// Departments through the SDK: every operation, each answer parsed by the
// SDK's own schemas.
async function departmentScenario(gusto, companyUuid) {
  const all = await step("departments.getAll", () => gusto.departments.getAll({ companyUuid }),
    (r) => (Array.isArray(r.departmentList) && r.departmentList.length >= 5 && r.departmentList[0].employees.length > 0 ? true : JSON.stringify(r.departmentList).slice(0, 300)));
  const first = all && all.departmentList[0];
  if (first) {
    await step("departments.get", () => gusto.departments.get({ departmentUuid: first.uuid }),
      (r) => (r.department && r.department.uuid === first.uuid && Array.isArray(r.department.contractors) ? true : JSON.stringify(r.department).slice(0, 300)));
  }
  await stepThrows("departments.get unknown -> 404", () => gusto.departments.get({ departmentUuid: NO_SUCH }), 404);
  await step("companies.getCustomFields", () => gusto.companies.getCustomFields({ companyId: companyUuid }),
    (r) => (r.companyCustomFieldList && r.companyCustomFieldList.customFields.some((f) => f.name === "employee_level") ? true : JSON.stringify(r.companyCustomFieldList)));
  const someone = first && first.employees[0] && first.employees[0].uuid;
  await step("employees.getCustomFields", () => gusto.employees.getCustomFields({ employeeId: someone }),
    (r) => (r.employeeCustomFieldList && r.employeeCustomFieldList.customFields.length === 1 && typeof r.employeeCustomFieldList.customFields[0].value === "string" ? true : JSON.stringify(r.employeeCustomFieldList)));
  const made = await step("departments.create", () => gusto.departments.create({ companyUuid, departmentCreateRequestBody: { title: "SDK Dept" } }),
    (r) => (r.department && r.department.title === "SDK Dept" && r.department.employees.length === 0 && r.department.version ? true : JSON.stringify(r.department)));
  const dep = made && made.department;
  if (!dep) return;
  const up = await step("departments.update: title, version moves", () => gusto.departments.update({ departmentUuid: dep.uuid,
    departmentUpdateRequestBody: { version: dep.version, title: "SDK Department" } }),
  (r) => (r.department && r.department.title === "SDK Department" && r.department.version !== dep.version ? true : JSON.stringify(r.department)));
  await stepThrows("departments.update stale version -> 409", () => gusto.departments.update({ departmentUuid: dep.uuid,
    departmentUpdateRequestBody: { version: dep.version, title: "Stale" } }), 409);
  const emp = first && first.employees[0] && first.employees[0].uuid;
  const added = up && up.department && await step("departments.addPeople", () => gusto.departments.addPeople({ departmentUuid: dep.uuid,
    departmentPeopleRequestBody: { version: up.department.version, employees: [{ uuid: emp }] } }),
  (r) => (r.department && r.department.employees.length === 1 ? true : JSON.stringify(r.department)));
  await step("employees.get: the employee is in the new department", () => gusto.employees.get({ employeeId: emp }),
    (r) => (r.employee && r.employee.departmentUuid === dep.uuid && r.employee.department === "SDK Department" ? true : JSON.stringify({ d: r.employee.department, u: r.employee.departmentUuid })));
  if (added && added.department) {
    await step("departments.removePeople", () => gusto.departments.removePeople({ departmentUuid: dep.uuid,
      departmentPeopleRequestBody: { version: added.department.version, employees: [{ uuid: emp }] } }),
    (r) => (r.department && r.department.employees.length === 0 ? true : JSON.stringify(r.department)));
  }
  await step("departments.delete", () => gusto.departments.delete({ departmentUuid: dep.uuid }), () => true);
}

await runMain(async () => {
  const sb = await startSandbox({ tokens: [TOKEN, `${LIMITED}:companies:read,employees:read`],
    extraArgs: ["--app", "sdk-app:sdk-app-secret:http://127.0.0.1:9/callback"] });
  try {
    await scenario(sb.base);
    const gusto = sdk({ serverURL: sb.base, companyAccessAuth: TOKEN, timeoutMs: 10000 });
    const ti = await gusto.introspection.getInfo({});
    await systemScenario(sb.base, ti.tokenInfo.resource.uuid);
    await timeOffPolicyScenario(gusto, ti.tokenInfo.resource.uuid);
    await departmentScenario(gusto, ti.tokenInfo.resource.uuid);
    await aroundEmployeeScenario(gusto, ti.tokenInfo.resource.uuid);
  } finally {
    await stopSandbox(sb);
  }
});

// The SDK's calls around the employee record: onboarding status, employment
// history, pay schedules and periods, earning types, contractors,
// signatories, federal tax details, tax requirements, time-off requests and
// balances.  Every response goes through the SDK's zod schemas.
async function aroundEmployeeScenario(gusto, companyId) {
  const companyUuid = companyId;
  const list = await gusto.employees.list({ companyId });
  const emps = list.showEmployees || [];
  const E = emps[0] && emps[0].uuid;
  const onb = (emps.find((e) => !e.onboarded) || {}).uuid;
  await step("employees.getOnboardingStatus", () => gusto.employees.getOnboardingStatus({ employeeId: E }),
    (r) => (r.employeeOnboardingStatus && r.employeeOnboardingStatus.onboardingSteps.length >= 9 ? true : JSON.stringify(r.employeeOnboardingStatus)));
  await stepThrows("employees.getOnboardingStatus unknown -> 404", () => gusto.employees.getOnboardingStatus({ employeeId: NO_SUCH }), 404);
  if (onb) {
    await step("employees.updateOnboardingStatus: mark as self-onboarding", () => gusto.employees.updateOnboardingStatus({
      employeeId: onb, requestBody: { onboardingStatus: "self_onboarding_pending_invite" } }),
    (r) => (r.employeeOnboardingStatus && r.employeeOnboardingStatus.onboardingStatus === "self_onboarding_pending_invite" ? true : JSON.stringify(r.employeeOnboardingStatus)));
    await stepThrows("employees.updateOnboardingStatus: not a documented change -> 422",
      () => gusto.employees.updateOnboardingStatus({ employeeId: onb, requestBody: { onboardingStatus: "onboarding_completed" } }), 422);
  }
  await step("employeeEmployments.getHistory", () => gusto.employeeEmployments.getHistory({ employeeId: E }),
    (r) => (Array.isArray(r.employmentHistoryList) && r.employmentHistoryList.length >= 1 ? true : JSON.stringify(r.employmentHistoryList)));
  const ps = await step("paySchedules.getAll", () => gusto.paySchedules.getAll({ companyId }),
    (r) => (Array.isArray(r.payScheduleShowResponse) && r.payScheduleShowResponse.length === 1 ? true : JSON.stringify(r.payScheduleShowResponse)));
  const PS = ps && ps.payScheduleShowResponse && ps.payScheduleShowResponse[0] && ps.payScheduleShowResponse[0].uuid;
  await step("paySchedules.get", () => gusto.paySchedules.get({ companyId, payScheduleId: PS }),
    (r) => (r.payScheduleShow && r.payScheduleShow.uuid === PS ? true : JSON.stringify(r.payScheduleShow)));
  await step("paySchedules.getAssignments", () => gusto.paySchedules.getAssignments({ companyId }),
    (r) => (r.payScheduleAssignment && r.payScheduleAssignment.defaultPayScheduleUuid === PS ? true : JSON.stringify(r.payScheduleAssignment)));
  await step("paySchedules.getPayPeriods", () => gusto.paySchedules.getPayPeriods({ companyId }),
    (r) => (Array.isArray(r.payPeriods) && r.payPeriods.length > 0 ? true : JSON.stringify(r.payPeriods)));
  await step("earningTypes.list", () => gusto.earningTypes.list({ companyId }),
    (r) => (r.earningTypeList && r.earningTypeList.default.length === 7 ? true : JSON.stringify(r.earningTypeList)));
  const ks = await step("contractors.list", () => gusto.contractors.list({ companyUuid }),
    (r) => (Array.isArray(r.contractors) && r.contractors.length === 2 ? true : JSON.stringify(r.contractors)));
  const K = ks && ks.contractors && ks.contractors[0] && ks.contractors[0].uuid;
  await step("contractors.get", () => gusto.contractors.get({ contractorUuid: K }),
    (r) => (r.contractor && r.contractor.uuid === K ? true : JSON.stringify(r.contractor)));
  await stepThrows("contractors.get unknown -> 404", () => gusto.contractors.get({ contractorUuid: NO_SUCH }), 404);
  await step("signatories.list", () => gusto.signatories.list({ companyUuid }),
    (r) => (Array.isArray(r.signatories) && r.signatories.length === 1 ? true : JSON.stringify(r.signatories)));
  await step("federalTaxDetails.get", () => gusto.federalTaxDetails.get({ companyId }),
    (r) => (r.federalTaxDetails && r.federalTaxDetails.filingForm === "941" ? true : JSON.stringify(r.federalTaxDetails)));
  await step("taxRequirements.get", () => gusto.taxRequirements.get({ companyUuid, state: "CA" }),
    (r) => (r.taxRequirementsState && r.taxRequirementsState.requirementSets.length === 2 ? true : JSON.stringify(r.taxRequirementsState)));
  const tr = await step("timeOffRequests list", () => gusto.timeOffRequests.getV1CompaniesCompanyUuidTimeOffRequests({ companyUuid }),
    (r) => (Array.isArray(r.embeddedTimeOffRequests) && r.embeddedTimeOffRequests.length === 3 ? true : JSON.stringify(r.embeddedTimeOffRequests)));
  const TR = tr && tr.embeddedTimeOffRequests && tr.embeddedTimeOffRequests[0] && tr.embeddedTimeOffRequests[0].uuid;
  await step("timeOffRequests get", () => gusto.timeOffRequests.getV1TimeOffRequestsTimeOffRequestUuid({ timeOffRequestUuid: TR }),
    (r) => (r.embeddedTimeOffRequest && r.embeddedTimeOffRequest.uuid === TR ? true : JSON.stringify(r.embeddedTimeOffRequest)));
  await step("timeOffRequests balances", () => gusto.timeOffRequests.getV1CompaniesCompanyUuidTimeOffBalances({ companyUuid, employeeUuids: E }),
    (r) => (Array.isArray(r.embeddedTimeOffBalances) && r.embeddedTimeOffBalances.length === 1 ? true : JSON.stringify(r.embeddedTimeOffBalances)));
  await stepThrows("payrolls.list: not emulated -> 501", () => gusto.payrolls.list({ companyId }), 501);
}
