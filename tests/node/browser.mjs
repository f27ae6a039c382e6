// browser.mjs - `gusto connect` end to end in a real browser: headless
// Chromium (the Debian package, driven by playwright-core) walks the
// sandbox's consent page, the CLI receives the redirect on its loopback
// listener, exchanges the code and stores the connection; then `gusto status`
// and `gusto employees list` use that stored connection.
//
// Runs: Allow for Globex Other Inc, Allow for Acme Demo Co (two connections
// in one store), and Deny.  Everything stays on 127.0.0.1; the store, HOME
// and the browser profile live in a fresh temporary directory.  One
// screenshot of the consent page is written to /tmp (path printed).
//
// Prints "ok - NAME" / "not ok - NAME: reason" and ends with
// "N passed, N failed"; exit 1 when anything failed.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
if (!process.env.GUSTO_SANDBOX) process.env.GUSTO_SANDBOX = join(root, "build", "gusto-sandbox");
const GUSTO = process.env.GUSTO_BIN || join(root, "build", "gusto-connect");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

const { startSandbox, stopSandbox, pass, fail, check, finish, describeError } = await import(
  "./lib.mjs"
);

const CHROME_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const children = new Set();
let context = null;
let work = null;

function killChildren() {
  for (const p of children) {
    try { p.kill("SIGTERM"); } catch { /* gone */ }
  }
}
process.on("exit", () => {
  killChildren();
  if (work) {
    try { rmSync(work, { recursive: true, force: true }); } catch { /* best effort */ }
  }
});

/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

function randomSecret() {
  return "sec-" + Array.from(crypto.getRandomValues(new Uint8Array(16)),
    (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The environment for every gusto child: isolated store and HOME, no token. */
function gustoEnv(extra = {}) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (k.startsWith("GUSTO_")) delete env[k];
  }
  delete env.DISPLAY;
  delete env.WAYLAND_DISPLAY;
  delete env.BROWSER;
  delete env.XDG_CONFIG_HOME;
  return { ...env, HOME: join(work, "home"), GUSTO_STORE: join(work, "store.db"), ...extra };
}

/** Run gusto to completion; resolves { code, stdout, stderr, json }. */
function runGusto(args, { env = {}, timeoutMs = 30000 } = {}) {
  return new Promise((res) => {
    const p = spawn(GUSTO, args, { env: gustoEnv(env), stdio: ["ignore", "pipe", "pipe"] });
    children.add(p);
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => { stdout += d; });
    p.stderr.on("data", (d) => { stderr += d; });
    const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.on("close", (code, sig) => {
      clearTimeout(timer);
      children.delete(p);
      let json = null;
      try { json = JSON.parse(stdout); } catch { /* not JSON */ }
      res({ code: code ?? (sig ? 128 : -1), stdout, stderr, json });
    });
  });
}

/**
 * Start `gusto connect --no-browser` and wait for the authorize URL on its
 * stderr.  Resolves { url, done } where done resolves like runGusto.
 */
function startConnect(base, clientId, redirect, secret, name) {
  const args = ["connect", "--no-browser", "--env", base, "--client-id", clientId,
    "--redirect-uri", redirect, "--wait", "60"];
  if (name) args.push("--name", name);
  const p = spawn(GUSTO, args, {
    env: gustoEnv({ GUSTO_CLIENT_SECRET: secret }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(p);
  let stdout = "";
  let stderr = "";
  let urlResolve;
  let urlReject;
  const urlP = new Promise((res, rej) => { urlResolve = res; urlReject = rej; });
  const timer = setTimeout(() => urlReject(new Error(`no authorize URL within 10 s; stderr: ${stderr}`)), 10000);
  p.stdout.on("data", (d) => { stdout += d; });
  p.stderr.on("data", (d) => {
    stderr += d;
    const m = /(http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+)/.exec(stderr);
    if (m && /waiting for the redirect/.test(stderr)) {
      clearTimeout(timer);
      urlResolve(m[1]);
    }
  });
  const done = new Promise((res) => {
    const kill = setTimeout(() => p.kill("SIGKILL"), 90000);
    p.on("close", (code, sig) => {
      clearTimeout(kill);
      clearTimeout(timer);
      children.delete(p);
      urlReject(new Error(`gusto connect exited (${code}) before printing the URL; stderr: ${stderr}`));
      let json = null;
      try { json = JSON.parse(stdout); } catch { /* not JSON */ }
      res({ code: code ?? (sig ? 128 : -1), stdout, stderr, json });
    });
  });
  return { url: urlP, done, args };
}

async function main() {
  work = mkdtempSync(join(tmpdir(), "gusto-browser-"));
  const shot = join("/tmp", `gusto-consent-${process.pid}.png`);

  if (!existsSync(GUSTO)) throw new Error(`${GUSTO} is missing: run make`);
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/deps.sh`);
  const { chromium } = await import("playwright-core");

  const port = await freePort();
  const redirect = `http://127.0.0.1:${port}/callback`;
  const clientId = "browser-test-app";
  const secret = randomSecret();
  const appsFile = join(work, "apps.json");
  writeFileSync(appsFile, JSON.stringify([{
    client_id: clientId, client_secret: secret, redirect_uris: [redirect], name: "Browser Test App",
  }]), { mode: 0o600 });

  const sb = await startSandbox({ tokens: [], extraArgs: ["--apps", appsFile, "--log"] });
  try {
    context = await chromium.launchPersistentContext(join(work, "chromium-profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROME_ARGS,
      timeout: 30000,
    });
    // Watch every request the browser makes: only 127.0.0.1 is allowed.
    const outside = [];
    context.on("request", (req) => {
      const u = req.url();
      if (/^(data|about|chrome|blob):/.test(u)) return;
      try {
        if (new URL(u).hostname !== "127.0.0.1") outside.push(u);
      } catch { outside.push(u); }
    });
    const page = context.pages()[0] || (await context.newPage());
    page.setDefaultTimeout(15000);

    const companies = {}; // label -> uuid, read off the consent page
    let shotTaken = false;

    // One Allow run: pick the company by its label, click Allow.
    const allowRun = async (label, name) => {
      const tag = `${name} (${label})`;
      const run = startConnect(sb.base, clientId, redirect, secret, name);
      let url;
      try {
        url = await run.url;
      } catch (e) {
        fail(`${tag}: connect prints the authorize URL`, describeError(e));
        await run.done;
        return null;
      }
      check(`${tag}: authorize URL carries client_id, redirect_uri and state`,
        url.startsWith(`${sb.base}/oauth/authorize?`) &&
        new URL(url).searchParams.get("client_id") === clientId &&
        new URL(url).searchParams.get("redirect_uri") === redirect &&
        /^[0-9a-f]{32,}$/.test(new URL(url).searchParams.get("state") || ""), url);
      const resp = await page.goto(url);
      check(`${tag}: consent page loads (200)`, resp && resp.status() === 200,
        () => `status ${resp && resp.status()}`);
      const h1 = await page.locator("h1").innerText();
      check(`${tag}: consent page names the app`, h1.includes("Browser Test App"), h1);
      for (const o of await page.locator("select[name=company] option").all()) {
        companies[(await o.innerText()).trim()] = await o.getAttribute("value");
      }
      if (!shotTaken) {
        await page.screenshot({ path: shot, fullPage: true });
        shotTaken = true;
        console.log(`# consent page screenshot: ${shot}`);
      }
      const want = companies[label];
      if (!check(`${tag}: company picker offers ${label}`, !!want, JSON.stringify(companies))) {
        await page.locator("button[name=decision][value=deny]").click();
        await run.done;
        return null;
      }
      await page.selectOption("select[name=company]", { label });
      const [nav] = await Promise.all([
        page.waitForURL((u) => u.href.startsWith(redirect), { waitUntil: "load" }).then(
          () => true, () => false),
        page.locator("button[name=decision][value=allow]").click(),
      ]);
      check(`${tag}: Allow lands on the redirect URI`, nav, page.url());
      const body = await page.locator("body").innerText().catch(() => "");
      check(`${tag}: the CLI's "Connected" page is shown`, /Connected/.test(body) && !/Not connected/.test(body),
        body.slice(0, 200));
      const r = await run.done;
      check(`${tag}: gusto connect exits 0`, r.code === 0,
        () => `exit ${r.code}; stdout ${r.stdout}; stderr ${r.stderr}`);
      check(`${tag}: connect reports the connection for ${label}`,
        r.json && r.json.ok === true && r.json.data.company_uuid === want && r.json.data.name === name,
        r.stdout);
      check(`${tag}: the secret is in neither stdout nor stderr`,
        !r.stdout.includes(secret) && !r.stderr.includes(secret), "secret printed");
      return want;
    };

    const globex = await allowRun("Globex Other Inc", "globex");
    const acme = await allowRun("Acme Demo Co", "acme");

    // gusto status: both connections valid, each bound to its company.
    const st = await runGusto(["status", "--json"]);
    check("status: exits 0", st.code === 0, () => `exit ${st.code}: ${st.stdout}${st.stderr}`);
    const list = (st.json && Array.isArray(st.json.data)) ? st.json.data : [];
    for (const [name, uuid] of [["globex", globex], ["acme", acme]]) {
      const c = list.find((x) => x.name === name);
      check(`status: ${name} is valid and bound to its company`,
        c && c.valid === true && uuid && c.company_uuid === uuid && c.refreshes === 0,
        () => JSON.stringify(c || list));
    }
    check("status: shows the API version in use (2026-12-01) with its status",
      list.length === 2 && list.every((c) => c.api_version && c.api_version.version === "2026-12-01" &&
        typeof c.api_version.status === "string"), () => JSON.stringify(list.map((c) => c.api_version)));
    check("status: no secret or token in its output",
      !st.stdout.includes(secret) && !/access_token|refresh_token/.test(st.stdout), st.stdout);

    // Every command works through the stored connection.
    for (const [name, uuid] of [["globex", globex], ["acme", acme]]) {
      const el = await runGusto(["employees", "list", "--json", "--connection", name]);
      const rows = el.json && Array.isArray(el.json.data) ? el.json.data : null;
      check(`employees list --connection ${name}: ok with that company's employees`,
        el.code === 0 && rows && rows.length > 0 && rows.every((e) => e.company_uuid === uuid),
        () => `exit ${el.code}; ${el.stdout.slice(0, 300)} ${el.stderr}`);
    }
    const byEnv = await runGusto(["employees", "list", "--json"], { env: { GUSTO_CONNECTION: "globex" } });
    check("employees list with GUSTO_CONNECTION=globex: Globex's employees",
      byEnv.code === 0 && Array.isArray(byEnv.json?.data) &&
      byEnv.json.data.every((e) => e.company_uuid === globex),
      () => `exit ${byEnv.code}; ${byEnv.stdout.slice(0, 300)} ${byEnv.stderr}`);
    const ambiguous = await runGusto(["employees", "list", "--json"]);
    check("employees list with two connections and none chosen: refused, names --connection",
      ambiguous.code !== 0 && /--connection/.test(ambiguous.stdout + ambiguous.stderr),
      () => `exit ${ambiguous.code}; ${ambiguous.stdout}${ambiguous.stderr}`);

    // Deny: the CLI gets error=access_denied and exits 3.
    {
      const run = startConnect(sb.base, clientId, redirect, secret, "denied");
      try {
        const url = await run.url;
        await page.goto(url);
        const [nav] = await Promise.all([
          page.waitForURL((u) => u.href.startsWith(redirect), { waitUntil: "load" }).then(
            () => true, () => false),
          page.locator("button[name=decision][value=deny]").click(),
        ]);
        check("deny: Deny lands on the redirect URI with error=access_denied",
          nav && new URL(page.url()).searchParams.get("error") === "access_denied", page.url());
        const body = await page.locator("body").innerText().catch(() => "");
        check("deny: the CLI's page says Not connected", /Not connected/.test(body), body.slice(0, 200));
      } catch (e) {
        fail("deny: consent page round trip", describeError(e));
      }
      const r = await run.done;
      check("deny: gusto connect exits 3", r.code === 3, () => `exit ${r.code}; ${r.stdout}${r.stderr}`);
      check("deny: the error is access_denied",
        r.json && r.json.ok === false && r.json.error.code === "access_denied" &&
        /access_denied/.test(r.json.error.message), r.stdout);
      const st2 = await runGusto(["status", "--json"]);
      check("deny: nothing new was stored",
        st2.code === 0 && Array.isArray(st2.json?.data) && st2.json.data.length === 2 &&
        !st2.json.data.some((c) => c.name === "denied"), st2.stdout);
    }

    // The sandbox log: two code exchanges (the two Allows), nothing more.
    const log = sb.stderr();
    const tokenPosts = (log.match(/^POST \/oauth\/token 200\b/gm) || []).length;
    check("sandbox log: exactly two successful POST /oauth/token (one per Allow)", tokenPosts === 2,
      () => `saw ${tokenPosts}:\n${log}`);
    check("sandbox log: no secret in it", !log.includes(secret), "secret logged");
    check("the browser requested nothing outside 127.0.0.1", outside.length === 0,
      () => outside.slice(0, 5).join(" "));
  } finally {
    if (context) await context.close().catch(() => {});
    await stopSandbox(sb);
  }
}

const watchdog = setTimeout(() => {
  fail("runtime", "script exceeded 180 s; aborting");
  finish();
  killChildren();
  process.exit(1);
}, 180000);
watchdog.unref();
try {
  await main();
} catch (e) {
  fail("script", describeError(e));
} finally {
  clearTimeout(watchdog);
  if (context) await context.close().catch(() => {});
  killChildren();
  finish();
}
