// /healthz and /readyz on both ports, and `minitwit healthcheck` against
// ready, unready, silent and absent servers.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config/settings";
import { applyMigrations } from "../../src/database/migrate";
import { type RunningServer, startServer } from "../../src/http/server";
import { createLogger } from "../../src/observability/log";
import { runMinitwit } from "../support/cli";
import { freePort, freshDatabase } from "../support/postgres";
import { startTestServer, type TestServer } from "../support/server";

async function get(url: string) {
  const res = await fetch(url);
  return { status: res.status, text: await res.text() };
}

/** MiniTwit on a fresh, empty database, started with --no-migrate. */
async function startUnmigrated(): Promise<{ server: RunningServer; web: string; api: string }> {
  const config = loadConfig(
    { DATABASE_URL: await freshDatabase(), PORT: "0", API_PORT: "0", METRICS_PORT: "0", HOST: "127.0.0.1" },
    { "no-migrate": true },
  );
  const server = await startServer(config, createLogger("silent"));
  return { server, web: `http://127.0.0.1:${server.webPort}`, api: `http://127.0.0.1:${server.apiPort}` };
}

let ready: TestServer;
let unmigrated: Awaited<ReturnType<typeof startUnmigrated>>;
beforeAll(async () => {
  [ready, unmigrated] = await Promise.all([startTestServer("postgres"), startUnmigrated()]);
});
afterAll(async () => {
  await Promise.all([ready.stop(), unmigrated.server.stop()]);
});

describe("probes", () => {
  test.each(["web", "api"] as const)("on the %s port, /healthz is 200 ok and /readyz 200 ready", async (port) => {
    expect(await get(`${ready[port]}/healthz`)).toEqual({ status: 200, text: "ok\n" });
    expect(await get(`${ready[port]}/readyz`)).toEqual({ status: 200, text: "ready\n" });
  });

  test("with migrations pending, the process is alive but not ready, on both ports", async () => {
    for (const base of [unmigrated.web, unmigrated.api]) {
      expect(await get(`${base}/healthz`)).toEqual({ status: 200, text: "ok\n" });
      const res = await get(`${base}/readyz`);
      expect(res.status).toBe(503);
      expect(res.text).toStartWith("not ready: pending migrations: 0000_init");
    }
  });

  test("once the migrations are applied, the same process becomes ready", async () => {
    const { server, web } = await startUnmigrated();
    try {
      expect((await get(`${web}/readyz`)).status).toBe(503);
      await applyMigrations(server.database.db);
      expect(await get(`${web}/readyz`)).toEqual({ status: 200, text: "ready\n" });
    } finally {
      await server.stop();
    }
  });

  test("with the database gone, /readyz is 503 naming it, and /healthz stays 200", async () => {
    const server = await startTestServer("postgres");
    try {
      await server.server.database.close();
      const res = await get(`${server.web}/readyz`);
      expect(res.status).toBe(503);
      expect(res.text).toStartWith("not ready: database unreachable");
      expect((await get(`${server.web}/healthz`)).status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});

describe("minitwit healthcheck", () => {
  // A server that accepts the request and never answers.
  const silent = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Promise<Response>(() => {}) });
  afterAll(() => silent.stop(true));

  const run = (args: string[]) => runMinitwit(["healthcheck", ...args]);

  test.each([
    ["a ready server", 0, () => ["--url", `${ready.web}/readyz`], /ready/],
    ["a ready server on --port, with the default URL", 0, () => ["--port", new URL(ready.web).port], /\/readyz: ready/],
    ["a ready API port", 0, () => ["--url", `${ready.api}/readyz`], /ready/],
    [
      "a server with pending migrations",
      1,
      () => ["--url", `${unmigrated.web}/readyz`],
      /503 not ready: pending migrations/,
    ],
    [
      "a server that never answers",
      1,
      () => ["--url", `http://127.0.0.1:${silent.port}/`, "--timeout-ms", "300"],
      /no answer within 300 ms/,
    ],
    ["--url ftp://x", 2, () => ["--url", "ftp://x"], /--url must be an http/],
    ["--live with --url", 2, () => ["--live", "--url", `${ready.web}/healthz`], /--live and --url exclude/],
    ["--timeout-ms soon", 2, () => ["--timeout-ms", "soon"], /--timeout-ms must be/],
  ] as const)("%s: exit %d", async (_, code, args, message) => {
    const res = await run(args());
    expect(res.code).toBe(code);
    expect(code === 0 ? res.stdout : res.stderr).toMatch(message);
    if (code === 2) expect(res.stderr).toContain("Try: minitwit healthcheck --help");
  });

  // What Swarm runs: a database outage must not make it restart every replica.
  test("with the database gone: --live exits 0 (alive), the readiness check 1 naming the database", async () => {
    const server = await startTestServer("postgres");
    try {
      await server.server.database.close();
      const port = new URL(server.web).port;
      const live = await run(["--port", port, "--live"]);
      expect(live.code).toBe(0);
      expect(live.stdout).toContain(`http://127.0.0.1:${port}/healthz: ok`);
      const readiness = await run(["--port", port]);
      expect(readiness.code).toBe(1);
      expect(readiness.stderr).toContain("database unreachable");
    } finally {
      await server.stop();
    }
  });

  test("a port nobody listens on: exit 1 naming the URL", async () => {
    const port = await freePort();
    const res = await run(["--port", String(port)]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`http://127.0.0.1:${port}/readyz`);
  });
});
