// The compiled `minitwit` binary on its own: copied into an empty directory
// (no node_modules, no sources), it migrates, serves on the embedded
// database, and its CLI answers with the documented exit codes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, freshDatabase } from "../support/postgres";
import { apiClient } from "../support/server";

const root = join(import.meta.dir, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "minitwit-bin-"));
const bin = join(dir, "minitwit");

beforeAll(() => {
  const build = Bun.spawnSync(["bun", "run", "build"], { cwd: root, stdout: "pipe", stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr.toString()}`);
  copyFileSync(join(root, "dist", "minitwit"), bin);
  Bun.spawnSync(["chmod", "+x", bin]);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string> = {}) {
  const result = Bun.spawnSync([bin, ...args], { cwd: dir, env: { PATH: "/usr/bin:/bin", ...env }, stderr: "pipe" });
  return { code: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

describe("the CLI", () => {
  test("version and help answer 0", () => {
    expect(run(["version"])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^minitwit \d+\.\d+\.\d+ /) });
    expect(run(["help"]).stdout).toContain("serve");
    for (const cmd of ["serve", "migrate", "version", "help"]) {
      const res = run([cmd, "--help"]);
      expect(res.code).toBe(0);
      expect(res.stdout).toStartWith(`Usage: minitwit ${cmd}`);
    }
  });

  test.each([
    [["frobnicate"], 'unknown command "frobnicate"', "Try: minitwit help"],
    [["serve", "--bogus"], "--bogus", "Try: minitwit serve --help"],
    [["migrate", "extra"], "extra", "Try: minitwit migrate --help"],
  ])("%j is a usage error: exit 2 with a hint", (args, message, hint) => {
    const res = run(args);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(message);
    expect(res.stderr).toContain(hint);
  });

  test("a bad environment value fails at start, naming the variable", () => {
    const res = run(["serve"], { PORT: "http" });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("PORT");
  });
});

test("migrate runs from an empty directory against Postgres, twice", async () => {
  const url = await freshDatabase();
  const first = run(["migrate", "--database-url", url, "--log-level", "silent"]);
  expect(first).toMatchObject({ code: 0, stdout: expect.stringContaining("applied 0000_init") });
  expect(run(["migrate"], { DATABASE_URL: url }).stdout).toContain("schema is current");
});

test("serve on the embedded database: latest, register and tweet round trip, clean stop", async () => {
  const [port, apiPort] = [await freePort(), await freePort()];
  const proc = Bun.spawn([bin, "serve", "--port", String(port), "--api-port", String(apiPort), "--metrics-port", "0"], {
    cwd: dir,
    env: { PATH: "/usr/bin:/bin", LOG_LEVEL: "info", HOST: "127.0.0.1" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const base = `http://127.0.0.1:${apiPort}`;
  for (let i = 0; i < 300; i++) {
    if (
      await fetch(`${base}/latest`).then(
        () => true,
        () => false,
      )
    )
      break;
    await Bun.sleep(100);
  }
  const api = apiClient(base);
  expect((await api.get("/latest")).json).toEqual({ latest: -1 });
  expect((await api.post("/register?latest=3", { username: "bin user", email: "b@u", pwd: "x" })).status).toBe(204);
  expect((await api.post("/msgs/bin%20user?latest=4", { content: "from the binary" })).status).toBe(204);
  expect((await api.get("/msgs/bin%20user")).json).toMatchObject([{ content: "from the binary", user: "bin user" }]);
  expect((await api.get("/latest")).json).toEqual({ latest: 4 });
  expect(existsSync(join(dir, "data", "pglite"))).toBe(true);
  // The pages and the embedded stylesheet come from the binary too.
  const page = await (await fetch(`http://127.0.0.1:${port}/public`)).text();
  expect(page).toContain("<title>Public Timeline | MiniTwit</title>");
  expect(page).toContain("from the binary");
  const href = /<link rel="stylesheet" href="([^"]+)"/.exec(page)?.[1] as string;
  const css = await fetch(`http://127.0.0.1:${port}${href}`);
  expect(css.headers.get("content-type")).toContain("text/css");
  expect(await css.text()).toContain(".messages");
  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
  const logs = await new Response(proc.stdout).text();
  expect(logs).toContain('"msg":"minitwit stopped"');
}, 120_000);
