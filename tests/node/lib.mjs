// Shared helpers for the gusto-sandbox Node tests: start/stop the sandbox,
// count checks, and print TAP-like "ok - NAME" / "not ok - NAME: reason" lines
// ending with "N passed, N failed".
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

// The clone's own build, found from this file, unless GUSTO_SANDBOX names one.
export const SANDBOX_BIN = process.env.GUSTO_SANDBOX ||
  fileURLToPath(new URL("../../build/gusto-sandbox", import.meta.url));

const running = new Set();

/**
 * Start a sandbox on a free port.
 * tokens: array of "TOKEN" or "TOKEN:scope1,scope2" strings.
 * Resolves to { base, port, proc, stderr() }.
 */
export async function startSandbox({
  tokens = ["test-token"],
  seed = "demo",
  rateLimit = 0,
  extraArgs = [],
  timeoutMs = 15000,
} = {}) {
  if (!existsSync(SANDBOX_BIN)) {
    throw new Error(
      `sandbox binary not found at ${SANDBOX_BIN} (set GUSTO_SANDBOX or run make)`,
    );
  }
  const args = ["--port", "0"];
  if (seed) args.push("--seed", seed);
  args.push("--rate-limit", String(rateLimit));
  for (const t of tokens) args.push("--token", t);
  args.push(...extraArgs);

  const proc = spawn(SANDBOX_BIN, args, { stdio: ["ignore", "pipe", "pipe"] });
  running.add(proc);
  let errText = "";
  proc.stderr.on("data", (d) => {
    errText += d.toString();
    if (errText.length > 200000) errText = errText.slice(-100000);
  });
  proc.on("exit", () => running.delete(proc));

  const rl = createInterface({ input: proc.stdout });
  const firstLine = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`sandbox did not print its listening line within ${timeoutMs} ms; stderr:\n${errText}`));
    }, timeoutMs);
    rl.once("line", (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    proc.once("exit", (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`sandbox exited early (code ${code}, signal ${sig}); args: ${args.join(" ")}; stderr:\n${errText}`));
    });
    proc.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  // Keep draining stdout so the child never blocks on a full pipe.
  rl.on("line", () => {});
  const m = /^listening on (http:\/\/127\.0\.0\.1:(\d+))\s*$/.exec(firstLine);
  if (!m) {
    await stopSandbox({ proc });
    throw new Error(`unexpected first stdout line from sandbox: ${JSON.stringify(firstLine)}`);
  }
  return { base: m[1], port: Number(m[2]), proc, stderr: () => errText };
}

/** SIGTERM the sandbox and wait (SIGKILL after 5 s). */
export async function stopSandbox(sb) {
  const proc = sb && sb.proc;
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  await new Promise((resolve) => {
    const timer = setTimeout(() => {
      try { proc.kill("SIGKILL"); } catch { /* gone */ }
    }, 5000);
    proc.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    try { proc.kill("SIGTERM"); } catch { clearTimeout(timer); resolve(); }
  });
}

function killAll() {
  for (const p of running) {
    try { p.kill("SIGTERM"); } catch { /* gone */ }
  }
}
process.on("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

// ---- test counter -------------------------------------------------------

let passed = 0;
let failed = 0;
const failures = [];

function oneLine(s) {
  return String(s).replace(/\s*\n\s*/g, " | ");
}

export function pass(name) {
  passed++;
  console.log(`ok - ${name}`);
}

/** reason may be multi-line; continuation lines are indented with "#". */
export function fail(name, reason) {
  failed++;
  const text = String(reason ?? "failed");
  const [first, ...rest] = text.split("\n");
  console.log(`not ok - ${name}: ${first}`);
  for (const l of rest) console.log(`#   ${l}`);
  failures.push(`${name}: ${oneLine(text).slice(0, 300)}`);
}

/** Record a check; returns cond so callers can branch on it. */
export function check(name, cond, reason) {
  if (cond) pass(name);
  else fail(name, typeof reason === "function" ? reason() : reason);
  return !!cond;
}

/** Run fn as one check: a throw is a failure with the error's message. */
export async function attempt(name, fn) {
  try {
    const r = await fn();
    if (r === false) return false;
    pass(name);
    return true;
  } catch (e) {
    fail(name, e && e.stack ? describeError(e) : String(e));
    return false;
  }
}

export function describeError(e) {
  if (e && typeof e.pretty === "function") return `${e.name}: ${e.pretty()}`;
  return (e && (e.stack || e.message)) || String(e);
}

export function counts() {
  return { passed, failed };
}

/** Print the summary line and exit (non-zero when anything failed). */
export function finish() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 ? 1 : 0;
}

/** Run main() with a sandbox-safe wrapper: any crash is a failure. */
export async function runMain(main) {
  const watchdog = setTimeout(() => {
    fail("runtime", "script exceeded 60 s; aborting");
    finish();
    killAll();
    process.exit(1);
  }, 60000);
  watchdog.unref();
  try {
    await main();
  } catch (e) {
    fail("script", describeError(e));
  } finally {
    clearTimeout(watchdog);
    finish();
    killAll();
  }
}

export function todayYMD(offsetDays = 0) {
  const d = new Date(Date.now() + offsetDays * 86400000);
  return d.toISOString().slice(0, 10);
}
