// sdk_bench.mjs - the SDK side of make bench (items 1a-1c): list, get and create with
// Gusto's official TypeScript SDK, in its class form or its standalone-function form.
//
//   node sdk_bench.mjs FORM MODE BASE_URL TOKEN COMPANY [ARGS]
//     FORM  sdk  : new GustoEmbedded({...}), methods such as gusto.employees.get()
//           func : new GustoEmbeddedCore({...}) plus standalone functions (employeesGet)
//     MODE  list           every employee, page/per=100, until a short page
//           get N FILE     employees.get for the first N uuids of FILE
//           create N TAG   employee + home address + job + compensation, N times
// Prints one line, as bench/client_bench does:
//   mode=M n=N wall_ms=W cpu_ms=C maxrss_kb=R requests=Q
// wall and CPU cover the operation only (imports and client set-up excluded, as
// on the C side); maxrss is the whole process's peak.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

const [form, mode, base, token, companyId, ...rest] = process.argv.slice(2);
if (!form || !mode || !base || !token || !companyId) {
  console.error("usage: node sdk_bench.mjs sdk|func list|get|create BASE TOKEN COMPANY [ARGS]");
  process.exit(2);
}

const { RFCDate } = await import("@gusto/embedded-api/types/rfcdate.js");
// SDK 0.16.0 sends X-Gusto-API-Version 2025-06-15, retired by Gusto: its
// documented beforeRequest hook sends the version libgusto sends.
const { HTTPClient } = await import("@gusto/embedded-api/lib/http.js");
const httpClient = new HTTPClient();
httpClient.addHook("beforeRequest", (request) => {
  const next = new Request(request);
  next.headers.set("X-Gusto-API-Version", process.env.API_VERSION || "2026-12-01");
  return next;
});
let api;
if (form === "sdk") {
  const { GustoEmbedded } = await import("@gusto/embedded-api");
  const g = new GustoEmbedded({ serverURL: base, companyAccessAuth: token, httpClient });
  api = {
    list: (r) => g.employees.list(r),
    get: (r) => g.employees.get(r),
    create: (r) => g.employees.create(r),
    home: (r) => g.employeeAddresses.create(r),
    job: (r) => g.jobsAndCompensations.createJob(r),
    comp: (r) => g.jobsAndCompensations.createCompensation(r),
  };
} else if (form === "func") {
  const { GustoEmbeddedCore } = await import("@gusto/embedded-api/core.js");
  const core = new GustoEmbeddedCore({ serverURL: base, companyAccessAuth: token, httpClient });
  const fn = async (path, name) => (await import(`@gusto/embedded-api/funcs/${path}.js`))[name];
  const unwrap = (f) => async (r) => {
    const res = await f(core, r);
    if (!res.ok) throw res.error;
    return res.value;
  };
  api = {
    list: unwrap(await fn("employeesList", "employeesList")),
    get: unwrap(await fn("employeesGet", "employeesGet")),
    create: unwrap(await fn("employeesCreate", "employeesCreate")),
    home: unwrap(await fn("employeeAddressesCreate", "employeeAddressesCreate")),
    job: unwrap(await fn("jobsAndCompensationsCreateJob", "jobsAndCompensationsCreateJob")),
    comp: unwrap(await fn("jobsAndCompensationsCreateCompensation", "jobsAndCompensationsCreateCompensation")),
  };
} else {
  console.error(`unknown form ${form}`);
  process.exit(2);
}

let n = 0;
let requests = 0;
const w0 = performance.now();
const c0 = process.cpuUsage();

if (mode === "list") {
  const per = 100;
  for (let page = 1; ; page++) {
    const r = await api.list({ companyId, page, per });
    requests++;
    const rows = r.showEmployees || [];
    n += rows.length;
    if (rows.length < per) break;
  }
} else if (mode === "get") {
  const want = Number(rest[0]);
  const ids = readFileSync(rest[1], "utf8").split("\n").filter(Boolean).slice(0, want);
  for (const employeeId of ids) {
    const r = await api.get({ employeeId });
    requests++;
    if (!r.employee || r.employee.uuid !== employeeId) throw new Error(`bad employee ${employeeId}`);
    n++;
  }
} else if (mode === "create") {
  const want = Number(rest[0]);
  const tag = rest[1] || "s";
  for (let i = 0; i < want; i++) {
    const e = await api.create({
      companyId,
      requestBody: {
        firstName: "Bench", lastName: `S${tag}${i}`, email: `bench.s.${tag}.${i}@example.com`,
        dateOfBirth: new RFCDate("1990-01-01"),
      },
    });
    const employeeId = e.employee.uuid;
    await api.home({
      employeeId, requestBody: { street1: "1 Main St", city: "Austin", state: "TX", zip: "78701" },
    });
    const j = await api.job({ employeeId, jobsCreateRequestBody: { title: "Engineer", hireDate: "2025-01-06" } });
    await api.comp({
      jobId: j.job.uuid,
      compensationsRequestBody: { rate: "90000.00", paymentUnit: "Year", flsaStatus: "Exempt" },
    });
    requests += 4;
    n++;
  }
} else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}

const wall = performance.now() - w0;
const cpu = process.cpuUsage(c0);
const rss = process.resourceUsage().maxRSS;
console.log(`mode=${mode} n=${n} wall_ms=${wall.toFixed(1)} cpu_ms=${((cpu.user + cpu.system) / 1000).toFixed(1)} maxrss_kb=${rss} requests=${requests}`);
