// The seed's security findings, each fixed and shown: headers on every
// response, CORS only for configured origins, X-Forwarded-* only from trusted
// proxies, a simulator allow-list that says what it refuses, caps on bodies
// and fields, a rate limit, and no public default token in production.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createLogger } from "../../src/observability/log";
import { runMinitwit } from "../support/cli";
import { apiClient, SIMULATOR_AUTH, startTestServer, type TestServer } from "../support/server";

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger("info", { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

describe("with default settings", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("postgres");
  });
  afterAll(() => server.stop());

  test.each([
    ["web page", "web", "/public"],
    ["web 404", "web", "/no-such-user"],
    ["stylesheet redirect target", "web", "/"],
    ["API JSON", "api", "/latest"],
    ["API 403", "api", "/msgs"],
    ["API under /api", "web", "/api/latest"],
  ])("security headers on a %s", async (_, port, path) => {
    const base = port === "web" ? server.web : server.api;
    const res = await fetch(base + path, { redirect: "manual" });
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("img-src 'self' https://www.gravatar.com");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).toMatch(/default-src 'none'/);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("referrer-policy")).toBe("same-origin");
    expect(res.headers.get("strict-transport-security")).toBeNull();
  });

  test("no CORS: a foreign origin gets no Access-Control-Allow-Origin and its preflight is refused", async () => {
    const res = await fetch(`${server.api}/latest`, { headers: { origin: "https://evil.example" } });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await fetch(`${server.api}/msgs`, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "GET" },
    });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    const web = await fetch(`${server.web}/public`, { headers: { origin: "https://evil.example" } });
    expect(web.headers.get("access-control-allow-origin")).toBeNull();
  });

  test("HSTS is not sent when X-Forwarded-Proto comes from an untrusted peer", async () => {
    const res = await fetch(`${server.web}/public`, { headers: { "x-forwarded-proto": "https" } });
    expect(res.headers.get("strict-transport-security")).toBeNull();
  });

  test.each([
    ["a tweet", "/msgs/x", { content: "x".repeat(1001) }, '"content" must be at most 1000 characters'],
    [
      "a username",
      "/register",
      { username: "u".repeat(101), email: "a@b", pwd: "x" },
      '"username" must be at most 100',
    ],
    [
      "an email",
      "/register",
      { username: "u", email: `${"e".repeat(250)}@b.dk`, pwd: "x" },
      '"email" must be at most 254',
    ],
  ])("%s over its cap is a 400 with a message", async (_, path, body, message) => {
    const res = await apiClient(server.api).post(path, body);
    expect(res.status).toBe(400);
    expect(res.json.error_msg).toContain(message);
  });

  test("a body over the cap is refused with 413 before it is read", async () => {
    const res = await fetch(`${server.api}/msgs/x`, {
      method: "POST",
      headers: { authorization: SIMULATOR_AUTH, "content-type": "application/json" },
      body: JSON.stringify({ content: "x".repeat(70 * 1024) }),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error_msg: string }).error_msg).toContain("too large");
    const form = await fetch(`${server.web}/add_message`, {
      method: "POST",
      body: new URLSearchParams({ text: "y".repeat(70_000) }),
    });
    expect(form.status).toBe(413);
  });
});

describe("with a proxy, an allow-list, CORS origins and a tight rate limit", () => {
  let server: TestServer;
  const captured = capturingLogger();
  beforeAll(async () => {
    server = await startTestServer(
      "postgres",
      {
        SIMULATOR_ALLOW: "10.0.0.0/8",
        CORS_ORIGINS: "https://dashboard.example",
        RATE_LIMIT_PER_SECOND: "1",
        RATE_LIMIT_BURST: "3",
        LOG_LEVEL: "info",
      },
      captured.log,
    );
  });
  afterAll(() => server.stop());

  test("the allow-list refuses an address outside it, logs it at warn with the address, and moves nothing", async () => {
    const before = captured.lines.length;
    const res = await fetch(`${server.api}/msgs?latest=99`, { headers: { authorization: SIMULATOR_AUTH } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error_msg: string }).error_msg).toBe("This address may not use the API");
    const warning = captured.lines.slice(before).find((l) => l.msg === "request refused by SIMULATOR_ALLOW");
    expect(warning).toMatchObject({ level: "warn", client: "127.0.0.1", path: "/msgs" });
    const metrics = await (await fetch(`${server.metrics}/metrics`)).text();
    expect(metrics).toMatch(/^minitwit_allowlist_refused_total [1-9]/m);
  });

  test("X-Forwarded-For from an untrusted peer is ignored", async () => {
    const res = await fetch(`${server.api}/latest`, { headers: { "x-forwarded-for": "10.1.2.3" } });
    expect(res.status).toBe(403);
  });

  test("the configured origin gets CORS headers; others do not", async () => {
    const proxied = await startTestServer("postgres", {
      CORS_ORIGINS: "https://dashboard.example",
    });
    const ok = await fetch(`${proxied.api}/msgs`, {
      method: "OPTIONS",
      headers: { origin: "https://dashboard.example", "access-control-request-method": "GET" },
    });
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://dashboard.example");
    const other = await fetch(`${proxied.api}/latest`, { headers: { origin: "https://evil.example" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    await proxied.stop();
  });
});

describe("behind a trusted proxy", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("postgres", {
      TRUSTED_PROXIES: "127.0.0.1/32",
      SIMULATOR_ALLOW: "10.0.0.0/8",
      RATE_LIMIT_PER_SECOND: "1",
      RATE_LIMIT_BURST: "3",
    });
  });
  afterAll(() => server.stop());

  test("X-Forwarded-For decides the client; X-Forwarded-Proto https brings HSTS and Secure cookies", async () => {
    const inside = await fetch(`${server.api}/latest`, { headers: { "x-forwarded-for": "10.1.2.3" } });
    expect(inside.status).toBe(200);
    const outside = await fetch(`${server.api}/latest`, { headers: { "x-forwarded-for": "192.0.2.7" } });
    expect(outside.status).toBe(403);
    const https = await fetch(`${server.web}/public`, { headers: { "x-forwarded-proto": "https" } });
    expect(https.headers.get("strict-transport-security")).toContain("max-age=");
    const register = await fetch(`${server.web}/register`, {
      method: "POST",
      redirect: "manual",
      headers: { "x-forwarded-proto": "https", "x-forwarded-for": "10.9.9.9" },
      body: new URLSearchParams({ username: "secure", email: "s@x", password: "secret", password2: "secret" }),
    });
    expect(register.status).toBe(302);
    expect(register.headers.getSetCookie().join()).toContain("Secure");
  });

  test("anonymous API calls are rate limited per client with 429 and Retry-After; the simulator is not", async () => {
    const from = (ip: string, auth?: string) =>
      fetch(`${server.api}/latest`, { headers: { "x-forwarded-for": ip, ...(auth ? { authorization: auth } : {}) } });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await from("10.5.5.5")).status);
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.at(-1)).toBe(429);
    const limited = await from("10.5.5.5");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await limited.json()) as { error_msg: string }).error_msg).toContain("Too many requests");
    expect((await from("10.6.6.6")).status).toBe(200); // another client is unaffected
    for (let i = 0; i < 20; i++) expect((await from("10.5.5.5", SIMULATOR_AUTH)).status).toBe(200);
  });
});

describe("secrets", () => {
  test("serve refuses to start in production with the public default simulator token", async () => {
    const res = await runMinitwit(["serve", "--port", "0", "--api-port", "0", "--metrics-port", "0"], {
      NODE_ENV: "production",
      DATA_DIR: "/nonexistent/should-not-be-created",
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("SIMULATOR_TOKEN is the public course default");
  });

  test("serve refuses to start in production on a shared database without SESSION_SECRET", async () => {
    const res = await runMinitwit(["serve", "--port", "0", "--api-port", "0"], {
      NODE_ENV: "production",
      SIMULATOR_TOKEN: "bm90OnRoZS1kZWZhdWx0",
      DATABASE_URL: "postgres://minitwit@127.0.0.1:1/minitwit",
      DATA_DIR: "/nonexistent/should-not-be-created",
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("SESSION_SECRET is not set");
    expect(res.stderr).toContain("the same value on every replica");
  });

  test("check-allow says whether an address would pass", async () => {
    const run = (...args: string[]) =>
      runMinitwit(["check-allow", ...args], { SIMULATOR_ALLOW: "10.0.0.0/8,2001:db8::/32" });
    const ok = await run("10.20.30.40", "2001:db8::1");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("allowed 10.20.30.40 (in 10.0.0.0/8)");
    const refused = await run("192.0.2.1");
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain("refused 192.0.2.1");
    expect((await run("not-an-ip")).code).toBe(2);
  });
});
