// Metrics and probes are internal (issue 18, attack 2). /metrics lives on its
// own port, which the proxy never routes to; /healthz and /readyz answer on
// their exact paths only; and the shipped Caddyfile blocks all three by
// prefix, tried here with caddy itself in front of a running MiniTwit.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../support/postgres";
import { rawGet } from "../support/raw-http";
import { startTestServer, type TestServer } from "../support/server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer("postgres");
});
afterAll(() => server.stop());

const port = (base: string) => Number(new URL(base).port);

// Sent raw, as an attacker types them (fetch would clean `/.`).
const VARIANTS = ["/", "/.", "//", "/./", "/%2e"];

describe("on the app ports", () => {
  test.each(["web", "api"] as const)("the %s port answers the probes on their exact paths only", async (which) => {
    const p = port(server[which]);
    expect(await rawGet(p, "/healthz")).toMatchObject({ status: 200 });
    expect(await rawGet(p, "/readyz")).toMatchObject({ status: 200 });
    for (const probe of ["/healthz", "/readyz"])
      for (const tail of VARIANTS) {
        const { status, text } = await rawGet(p, probe + tail);
        expect({ path: probe + tail, status, served: /\r\n\r\n(ok|ready)\n/.test(text) }).toEqual({
          path: probe + tail,
          status: 404,
          served: false,
        });
      }
  });

  test.each(["web", "api"] as const)("the %s port does not serve /metrics at all", async (which) => {
    for (const path of ["/metrics", "/metrics/", "/metrics/."]) {
      const { status, text } = await rawGet(port(server[which]), path);
      expect({ path, status, exposition: text.includes("# HELP") }).toEqual({ path, status: 404, exposition: false });
    }
  });

  test("the metrics port serves /metrics on its exact path, nothing else", async () => {
    const p = port(server.metrics);
    const ok = await rawGet(p, "/metrics");
    expect(ok.status).toBe(200);
    expect(ok.text).toContain("# HELP http_requests_total");
    for (const path of ["/metrics/", "/metrics/.", "/healthz", "/public", "/api/latest"])
      expect({ path, status: (await rawGet(p, path)).status }).toEqual({ path, status: 404 });
  });
});

describe("behind the shipped Caddyfile", () => {
  let caddy: ReturnType<typeof Bun.spawn> | null = null;
  let proxy = 0;
  const dir = mkdtempSync(join(tmpdir(), "minitwit-caddy-"));

  beforeAll(async () => {
    const shipped = await Bun.file(join(import.meta.dir, "..", "..", "ops", "swarm", "Caddyfile")).text();
    // The shared site snippet as shipped, in front of this test's MiniTwit on plain HTTP.
    const snippet = /^\(minitwit\) \{\n[\s\S]*?\n\}\n/m.exec(shipped)?.[0];
    if (snippet === undefined) throw new Error("the Caddyfile has no (minitwit) snippet");
    proxy = await freePort();
    const config = join(dir, "Caddyfile");
    writeFileSync(
      config,
      `{\n\tadmin off\n\tauto_https off\n}\n\n${snippet}\nhttp://:${proxy} {\n\timport minitwit\n\treverse_proxy ${new URL(server.web).host}\n}\n`,
    );
    const bin = Bun.which("caddy");
    if (bin === null) throw new Error("caddy is not installed (apt-get install caddy; .ci/run does)");
    caddy = Bun.spawn([bin, "run", "--adapter", "caddyfile", "--config", config], {
      env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
      stdout: "ignore",
      stderr: "pipe",
    });
    for (let i = 0; i < 100; i++) {
      if ((await rawGet(proxy, "/public").catch(() => ({ status: 0 }))).status === 200) return;
      await Bun.sleep(100);
    }
    throw new Error(`caddy did not start: ${await new Response(caddy.stderr as ReadableStream).text()}`);
  });
  afterAll(() => {
    caddy?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  test("pages pass through the proxy", async () => {
    expect((await rawGet(proxy, "/public")).status).toBe(200);
  });

  test.each(["/metrics", "/healthz", "/readyz"])("%s and its variants are refused by the proxy", async (internal) => {
    const paths = [internal, ...VARIANTS.map((tail) => internal + tail), `/.${internal}`, `${internal}/x`];
    for (const path of paths) {
      const { status, text } = await rawGet(proxy, path);
      expect({ path, status, served: /\r\n\r\n(ok\n|ready\n|# HELP)/.test(text) }).toEqual({
        path,
        status: 404,
        served: false,
      });
    }
  });
});
