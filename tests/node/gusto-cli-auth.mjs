// gusto-cli-auth.mjs - `gusto auth login` of Gusto's official CLI
// (Gusto/gusto-cli @ e297b37, src/lib/oauth/{dcr,pkce,login,endpoints,session}.ts),
// driven against gusto-sandbox step by step, with the CLI's own requests:
//
//   1. POST /v1/mcp/oauth/register, JSON: client_type "cli", client_name
//      "Gusto CLI", redirect_uris ["http://127.0.0.1/callback"],
//      token_endpoint_auth_method "client_secret_basic", grant_types
//      authorization_code + refresh_token (RFC 7591);
//   2. a loopback server on 127.0.0.1:<any port>/callback, PKCE S256
//      (32 random bytes base64url, SHA-256 challenge), a random state;
//   3. the browser at /v1/mcp/oauth/authorize?response_type=code&client_id&
//      redirect_uri&code_challenge&code_challenge_method=S256&state (no scope):
//      here the script is the browser, allows on the consent page and follows
//      the redirect to the loopback server;
//   4. POST /v1/mcp/oauth/token, form: grant_type=authorization_code, code,
//      code_verifier, redirect_uri, client_id, with Authorization: Basic;
//   5. GET /v1/token_info with the token (the CLI reads resource + resource_owner);
//   6. the refresh the CLI does near expiry: grant_type=refresh_token,
//      refresh_token, client_id, Basic again.
// Then the refusals a client like it meets, and a restart with --data (the CLI
// keeps its registered credentials and never registers again).
//
// None of Gusto's CLI code is here: only the HTTP it sends, rewritten.
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { check, fail, runMain, startSandbox, stopSandbox } from "./lib.mjs";

const UA = "gusto-cli/0.2.0";
const CLI_API_VERSION = "2026-02-01"; // the CLI's DEFAULT_API_VERSION (src/lib/env.ts)

function basic(id, secret) {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;
}

async function register(base, body) {
  const res = await fetch(`${base}/v1/mcp/oauth/register`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", "User-Agent": UA },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, json, text };
}

const CLI_REGISTRATION = {
  client_type: "cli",
  client_name: "Gusto CLI",
  redirect_uris: ["http://127.0.0.1/callback"],
  token_endpoint_auth_method: "client_secret_basic",
  grant_types: ["authorization_code", "refresh_token"],
};

async function token(base, form, auth) {
  const headers = { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json", "User-Agent": UA };
  if (auth) headers.Authorization = auth;
  const res = await fetch(`${base}/v1/mcp/oauth/token`, { method: "POST", headers, body: new URLSearchParams(form).toString() });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, json, text };
}

function pkce() {
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest().toString("base64url");
  return { verifier, challenge };
}

function authorizeUrl(base, p) {
  const url = new URL(`${base}/v1/mcp/oauth/authorize`);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", p.clientId);
  url.searchParams.set("redirect_uri", p.redirectUri);
  if (p.challenge) {
    url.searchParams.set("code_challenge", p.challenge);
    url.searchParams.set("code_challenge_method", "S256");
  }
  url.searchParams.set("state", p.state);
  return url.toString();
}

/** The CLI's loopback callback server: resolves with the query it receives. */
function loopback() {
  return new Promise((resolve) => {
    let deliver;
    const got = new Promise((r) => { deliver = r; });
    const server = createServer((req, res) => {
      const u = new URL(req.url, "http://127.0.0.1");
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end("Gusto CLI: login complete. You can close this tab.");
      deliver({ path: u.pathname, code: u.searchParams.get("code"), state: u.searchParams.get("state"), error: u.searchParams.get("error") });
    });
    server.listen(0, "127.0.0.1", () => {
      const port = server.address().port;
      resolve({ port, redirectUri: `http://127.0.0.1:${port}/callback`, got, close: () => server.close() });
    });
  });
}

/** The browser: open the consent page, press Allow, follow the redirect. */
async function browserAllow(base, url) {
  const page = await fetch(url, { redirect: "manual" });
  const html = await page.text();
  if (page.status !== 200) return { status: page.status, location: page.headers.get("location"), html };
  const action = (/<form[^>]*action="([^"]+)"/.exec(html) || [])[1];
  const fields = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
    fields[m[1]] = m[2].replace(/&quot;/g, "\"").replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }
  const company = (/<option value="([^"]+)" selected>/.exec(html) || [])[1];
  if (company) fields.company = company;
  fields.decision = "allow";
  const post = await fetch(new URL(action, base), {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
    redirect: "manual",
  });
  const location = post.headers.get("location");
  if (post.status === 302 && location && location.startsWith("http://127.0.0.1:")) await fetch(location);
  return { status: post.status, location, html, company };
}

async function signIn(base, creds, { withPkce = true } = {}) {
  const lb = await loopback();
  const { verifier, challenge } = pkce();
  const state = randomBytes(16).toString("base64url");
  const url = authorizeUrl(base, { clientId: creds.client_id, redirectUri: lb.redirectUri, challenge: withPkce ? challenge : null, state });
  const b = await browserAllow(base, url);
  let cb = null;
  if (b.status === 302 && b.location && b.location.startsWith(lb.redirectUri)) {
    cb = await Promise.race([lb.got, new Promise((r) => setTimeout(() => r(null), 5000))]);
  }
  lb.close();
  return { browser: b, callback: cb, verifier, state, redirectUri: lb.redirectUri };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "gusto-cli-auth-"));
  const data = join(dir, "sandbox.db");
  let sb = await startSandbox({ tokens: [], extraArgs: ["--data", data] });
  try {
    const base = sb.base;

    // 1. Dynamic client registration, exactly the CLI's body.
    const reg = await register(base, CLI_REGISTRATION);
    const creds = reg.json || {};
    check("register: 201 with a client_id and a client_secret", reg.status === 201 &&
      typeof creds.client_id === "string" && typeof creds.client_secret === "string" && creds.client_secret.length >= 32,
    () => `${reg.status} ${reg.text.slice(0, 300)}`);
    check("register: RFC 7591 metadata echoed (auth method, redirect URIs, grants) and no-store",
      creds.token_endpoint_auth_method === "client_secret_basic" &&
        JSON.stringify(creds.redirect_uris) === JSON.stringify(CLI_REGISTRATION.redirect_uris) &&
        JSON.stringify(creds.grant_types) === JSON.stringify(CLI_REGISTRATION.grant_types) &&
        creds.client_name === "Gusto CLI" && creds.client_type === "cli" && creds.client_secret_expires_at === 0 &&
        Number.isInteger(creds.client_id_issued_at) && /no-store/.test(reg.headers.get("cache-control") || ""),
    () => reg.text.slice(0, 400));
    const again = await register(base, CLI_REGISTRATION);
    check("register twice: a second, different client", again.status === 201 && again.json && again.json.client_id !== creds.client_id,
      () => again.text.slice(0, 200));

    // 2-4. Sign in as the CLI does: loopback on a port of its own, PKCE, Basic at the token endpoint.
    const si = await signIn(base, creds);
    check("authorize: the consent page, then a 302 to the loopback port the CLI listens on",
      si.browser.status === 302 && si.browser.location && si.browser.location.startsWith(si.redirectUri),
    () => `${si.browser.status} ${si.browser.location} ${String(si.browser.html).slice(0, 300)}`);
    check("callback: the loopback server gets the code and the same state",
      si.callback && si.callback.path === "/callback" && si.callback.code && si.callback.state === si.state && !si.callback.error,
    () => JSON.stringify(si.callback));
    const code = si.callback && si.callback.code;
    const exch = await token(base, { grant_type: "authorization_code", code, code_verifier: si.verifier, redirect_uri: si.redirectUri, client_id: creds.client_id },
      basic(creds.client_id, creds.client_secret));
    const tok = exch.json || {};
    check("token: the code and its verifier with HTTP Basic give a token the CLI can store",
      exch.status === 200 && typeof tok.access_token === "string" && typeof tok.refresh_token === "string" &&
        typeof tok.expires_in === "number" && typeof tok.scope === "string" && tok.token_type === "Bearer",
    () => `${exch.status} ${exch.text.slice(0, 300)}`);

    // 5. token_info: the CLI takes companyUuid from resource, identity from resource_owner.
    const ti = await fetch(`${base}/v1/token_info`, { headers: { Authorization: `Bearer ${tok.access_token}`, "X-Gusto-API-Version": CLI_API_VERSION, "User-Agent": UA } });
    const info = await ti.json().catch(() => ({}));
    check("token_info: resource is the company picked on the consent page, resource_owner the admin",
      ti.status === 200 && info.resource && info.resource.type === "Company" && info.resource.uuid === si.browser.company &&
        info.resource_owner && typeof info.resource_owner.uuid === "string",
    () => `${ti.status} ${JSON.stringify(info).slice(0, 300)}`);
    const company = info.resource && info.resource.uuid;
    const emps = await fetch(`${base}/v1/companies/${company}/employees`, { headers: { Authorization: `Bearer ${tok.access_token}`, "X-Gusto-API-Version": CLI_API_VERSION } });
    check("the signed-in token reads the company's employees", emps.status === 200 && (await emps.json()).length > 0, () => `${emps.status}`);

    // 6. Refresh, as session.ts does near expiry.
    const ref = await token(base, { grant_type: "refresh_token", refresh_token: tok.refresh_token, client_id: creds.client_id }, basic(creds.client_id, creds.client_secret));
    check("refresh: a new access and refresh token, with Basic", ref.status === 200 && ref.json && ref.json.access_token && ref.json.access_token !== tok.access_token &&
      ref.json.refresh_token && ref.json.refresh_token !== tok.refresh_token, () => `${ref.status} ${ref.text.slice(0, 200)}`);
    const ti2 = await fetch(`${base}/v1/token_info`, { headers: { Authorization: `Bearer ${ref.json && ref.json.access_token}` } });
    check("refresh: the new access token works", ti2.status === 200, () => `${ti2.status}`);

    // The code is single use; a second exchange revokes what it gave (RFC 6749 4.1.2).
    const reuse = await token(base, { grant_type: "authorization_code", code, code_verifier: si.verifier, redirect_uri: si.redirectUri, client_id: creds.client_id },
      basic(creds.client_id, creds.client_secret));
    check("token: the same code twice is invalid_grant", reuse.status === 400 && reuse.json && reuse.json.error === "invalid_grant", () => reuse.text);
    const ti3 = await fetch(`${base}/v1/token_info`, { headers: { Authorization: `Bearer ${ref.json && ref.json.access_token}` } });
    check("...and the tokens of that grant stop working", ti3.status === 401, () => `${ti3.status}`);

    // Refusals.
    const s2 = await signIn(base, creds);
    const c2 = s2.callback && s2.callback.code;
    const noBasic = await token(base, { grant_type: "authorization_code", code: c2, code_verifier: s2.verifier, redirect_uri: s2.redirectUri, client_id: creds.client_id, client_secret: creds.client_secret });
    check("token: this client registered client_secret_basic, so a secret in the body is 401 invalid_client",
      noBasic.status === 401 && noBasic.json && noBasic.json.error === "invalid_client" && /client_secret_basic/.test(noBasic.json.error_description),
    () => `${noBasic.status} ${noBasic.text}`);
    check("...and the description never holds the secret", !noBasic.text.includes(creds.client_secret), "secret leaked");
    const wrong = await token(base, { grant_type: "authorization_code", code: c2, code_verifier: s2.verifier, redirect_uri: s2.redirectUri, client_id: creds.client_id },
      basic(creds.client_id, "not-the-secret"));
    check("token: a wrong Basic secret is 401 invalid_client with WWW-Authenticate: Basic",
      wrong.status === 401 && wrong.json && wrong.json.error === "invalid_client" && /^Basic /.test(wrong.headers.get("www-authenticate") || ""),
    () => `${wrong.status} ${wrong.headers.get("www-authenticate")} ${wrong.text}`);
    const both = await token(base, { grant_type: "authorization_code", code: c2, code_verifier: s2.verifier, redirect_uri: s2.redirectUri, client_id: creds.client_id, client_secret: creds.client_secret },
      basic(creds.client_id, creds.client_secret));
    check("token: Basic and client_secret together is 400 invalid_request (one method per request)",
      both.status === 400 && both.json && both.json.error === "invalid_request", () => `${both.status} ${both.text}`);
    const badVerifier = await token(base, { grant_type: "authorization_code", code: c2, code_verifier: pkce().verifier, redirect_uri: s2.redirectUri, client_id: creds.client_id },
      basic(creds.client_id, creds.client_secret));
    check("token: another verifier is invalid_grant", badVerifier.status === 400 && badVerifier.json && badVerifier.json.error === "invalid_grant", () => badVerifier.text);
    const good2 = await token(base, { grant_type: "authorization_code", code: c2, code_verifier: s2.verifier, redirect_uri: s2.redirectUri, client_id: creds.client_id },
      basic(creds.client_id, creds.client_secret));
    check("...none of those used the code up: the right request still works (the positive control)", good2.status === 200, () => `${good2.status} ${good2.text}`);

    const noPkce = await signIn(base, creds, { withPkce: false });
    const loc = noPkce.browser.location ? new URL(noPkce.browser.location) : null;
    check("authorize without a code_challenge: back to the loopback URI with error=invalid_request",
      noPkce.browser.status === 302 && loc && loc.searchParams.get("error") === "invalid_request" && /code_challenge/.test(loc.searchParams.get("error_description") || ""),
    () => `${noPkce.browser.status} ${noPkce.browser.location}`);
    const otherPath = await fetch(authorizeUrl(base, { clientId: creds.client_id, redirectUri: "http://127.0.0.1:5555/elsewhere", challenge: pkce().challenge, state: "s" }), { redirect: "manual" });
    check("authorize: the loopback rule matches any port, not any path (400 page, no redirect)",
      otherPath.status === 400 && !otherPath.headers.get("location"), () => `${otherPath.status}`);
    const localhost = await fetch(authorizeUrl(base, { clientId: creds.client_id, redirectUri: "http://localhost:5555/callback", challenge: pkce().challenge, state: "s" }), { redirect: "manual" });
    check("authorize: nor another host (localhost is not the registered 127.0.0.1)", localhost.status === 400, () => `${localhost.status}`);

    const badUri = await register(base, { ...CLI_REGISTRATION, redirect_uris: ["not a uri#x"] });
    check("register: a bad redirect URI is 400 invalid_redirect_uri", badUri.status === 400 && badUri.json && badUri.json.error === "invalid_redirect_uri", () => badUri.text);
    const noUris = await register(base, { client_name: "x" });
    check("register: no redirect_uris is 400 invalid_redirect_uri", noUris.status === 400 && noUris.json && noUris.json.error === "invalid_redirect_uri", () => noUris.text);
    const pub = await register(base, { ...CLI_REGISTRATION, token_endpoint_auth_method: "none" });
    check("register: a public client (auth method none) is 400 invalid_client_metadata",
      pub.status === 400 && pub.json && pub.json.error === "invalid_client_metadata", () => pub.text);
    const grants = await register(base, { ...CLI_REGISTRATION, grant_types: ["client_credentials"] });
    check("register: an unsupported grant type is 400 invalid_client_metadata",
      grants.status === 400 && grants.json && grants.json.error === "invalid_client_metadata" && /grant_types/.test(grants.json.error_description), () => grants.text);

    // The CLI registers once and keeps its credentials: with --data they outlive a restart.
    await stopSandbox(sb);
    sb = await startSandbox({ tokens: [], extraArgs: ["--data", data] });
    const after = await signIn(sb.base, creds);
    const exch2 = after.callback && after.callback.code ? await token(sb.base,
      { grant_type: "authorization_code", code: after.callback.code, code_verifier: after.verifier, redirect_uri: after.redirectUri, client_id: creds.client_id },
      basic(creds.client_id, creds.client_secret)) : { status: 0, text: "no code" };
    check("after a restart with --data, the registered client signs in again", exch2.status === 200, () => `${exch2.status} ${exch2.text}`);
    const unknown = await fetch(authorizeUrl(sb.base, { clientId: "dcr-never-registered", redirectUri: "http://127.0.0.1:5555/callback", challenge: pkce().challenge, state: "s" }), { redirect: "manual" });
    check("...while a client never registered gets the 400 page", unknown.status === 400, () => `${unknown.status}`);
  } catch (e) {
    fail("gusto-cli-auth", e && e.stack ? e.stack : String(e));
  } finally {
    await stopSandbox(sb);
    rmSync(dir, { recursive: true, force: true });
  }
}

await runMain(main);
