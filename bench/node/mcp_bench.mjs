// mcp_bench.mjs - the latency of a self-service MCP answer over HTTP
// (gusto-connect serve, POST /mcp, tools/call my_time_off) from a fresh mirror,
// and the requests it costs Gusto (the sandbox's request log): prints p50,
// p99 and max over N sequential calls on one keep-alive connection, and the
// Gusto requests per answer.  Issue 16's targets: p99 <= 5 ms, 0 requests.
// Run: node bench/node/mcp_bench.mjs [N] (default 2000), after make.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { startSandbox, stopSandbox } from "../../tests/node/lib.mjs";

const G = process.env.GUSTO || fileURLToPath(new URL("../../build/gusto-connect", import.meta.url));
const N = Number(process.argv[2] || 2000);
const T = mkdtempSync(join(tmpdir(), "gusto-mcp-bench-"));
const env = { PATH: process.env.PATH, HOME: T, GUSTO_STORE: join(T, "c.db"), NO_PROXY: "*" };
const sb = await startSandbox({ tokens: ["bench-token"], extraArgs: ["--log"] });
let serve;
try {
  const MIRROR = join(T, "mirror.db");
  spawnSync(G, ["sync", "--db", MIRROR], {
    env: { ...env, GUSTO_API_BASE_URL: sb.base, GUSTO_ACCESS_TOKEN: "bench-token" },
  });
  const cfg = join(T, "serve.json");
  writeFileSync(cfg, JSON.stringify({
    db: join(T, "serve.db"), mirror: MIRROR, audit_log: join(T, "audit.jsonl"), port: 0, quiet: true,
  }));
  const email = spawnSync("sqlite3", [MIRROR, "SELECT work_email FROM gusto_employees WHERE status='active' LIMIT 1"],
    { encoding: "utf8" }).stdout.trim();
  const key = JSON.parse(spawnSync(G, ["serve", "keys", "add", "bench", "--employee", email, "--config", cfg, "--json"],
    { env, encoding: "utf8" }).stdout).data.key;
  serve = spawn(G, ["serve", "--config", cfg], { env, stdio: ["ignore", "pipe", "ignore"] });
  const url = await new Promise((resolve) => createInterface({ input: serve.stdout })
    .on("line", (l) => l.startsWith("listening on ") && resolve(l.slice(13).trim())));
  const H = { Authorization: `Bearer ${key}`, "Content-Type": "application/json", Accept: "application/json, text/event-stream" };
  const ini = await fetch(url + "/mcp", { method: "POST", headers: H, body: JSON.stringify({
    jsonrpc: "2.0", id: 0, method: "initialize",
    params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "bench", version: "1" } },
  }) });
  const sid = ini.headers.get("mcp-session-id");
  await ini.text();
  const gustoBefore = (sb.stderr().match(/ \/v1\//g) || []).length;
  const lat = [];
  for (let i = 1; i <= N; i++) {
    const t0 = process.hrtime.bigint();
    const r = await fetch(url + "/mcp", { method: "POST", headers: { ...H, "Mcp-Session-Id": sid }, body: JSON.stringify({
      jsonrpc: "2.0", id: i, method: "tools/call", params: { name: "my_time_off", arguments: {} },
    }) });
    const j = await r.json();
    lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (j.result?.structuredContent?.freshness?.source !== "mirror") throw new Error(`call ${i} not from the mirror`);
  }
  await new Promise((r) => setTimeout(r, 200));
  const gusto = (sb.stderr().match(/ \/v1\//g) || []).length - gustoBefore;
  if (gustoBefore === 0) throw new Error("the sandbox logged no request of the sync: the count would prove nothing");
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(2);
  console.log(`mcp over HTTP, my_time_off from a fresh mirror, ${N} calls: p50 ${q(0.5)} ms, ` +
    `p99 ${q(0.99)} ms, max ${lat[lat.length - 1].toFixed(2)} ms; requests to Gusto per answer: ${gusto / N}`);
} finally {
  serve?.kill("SIGTERM");
  await stopSandbox(sb);
  rmSync(T, { recursive: true, force: true });
}
