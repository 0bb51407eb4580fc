// One process owns an embedded data directory, and one process a port. A
// second `minitwit serve`, or an operator command beside a running server, is
// refused with exit 1 instead of silently sharing them, and the running
// server loses nothing. Every process here is a real `bun src/main.ts`.
import { Database as Sqlite } from "bun:sqlite";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runMinitwit } from "../support/cli";
import { freePort, freshDatabase } from "../support/postgres";
import { type ServeProcess, spawnServe } from "../support/serve-process";
import { SIMULATOR_AUTH } from "../support/server";

const IN_USE_HINT = "stop it first, or set DATABASE_URL to share a PostgreSQL between processes";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(registry = cleanups): string {
  const dir = mkdtempSync(join(tmpdir(), "minitwit-lock-"));
  registry.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// A new embedded database takes long to initialise on a busy machine: each
// test starts from a copy of one, made once.
let template = "";
beforeAll(async () => {
  template = tempDir([]);
  const migrated = await runMinitwit(["migrate"], { DATA_DIR: template, LOG_LEVEL: "silent" });
  if (migrated.code !== 0) throw new Error(`migrate failed: ${migrated.stderr}`);
}, 120_000);
afterAll(() => rmSync(template, { recursive: true, force: true }));

function freshDataDir(registry = cleanups): string {
  const dir = tempDir(registry);
  cpSync(template, dir, { recursive: true });
  return dir;
}

interface Server extends Pick<ServeProcess, "proc" | "stop"> {
  readonly api: string;
}

type Attempt = { listening: true; server: Server } | { listening: false; code: number; stderr: string };

/** `minitwit serve` in its own process: settles once it listens, or once it has exited. */
async function serve(env: Record<string, string>, registry = cleanups): Promise<Attempt> {
  const ports = { PORT: String(await freePort()), API_PORT: String(await freePort()) };
  const server = spawnServe({ ...ports, ...env });
  registry.push(async () => {
    if (server.proc.exitCode === null) server.proc.kill("SIGKILL");
    await server.exited;
  });
  if (!(await server.listening())) {
    return { listening: false, code: await server.exited, stderr: await server.stderr };
  }
  const api = `http://127.0.0.1:${env.API_PORT ?? ports.API_PORT}`;
  return { listening: true, server: { proc: server.proc, api, stop: server.stop } };
}

async function serving(env: Record<string, string>, registry = cleanups): Promise<Server> {
  const attempt = await serve(env, registry);
  if (!attempt.listening) throw new Error(`serve exited ${attempt.code}: ${attempt.stderr}`);
  return attempt.server;
}

function call(api: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(api + path, {
    method,
    headers: { "content-type": "application/json", authorization: SIMULATOR_AUTH },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Signs `name` up and lets them post one message; the two statuses. */
async function signUp(api: string, name: string): Promise<number[]> {
  const registered = await call(api, "POST", "/register", { username: name, email: `${name}@example.com`, pwd: "p" });
  const posted = await call(api, "POST", `/msgs/${name}`, { content: `hello from ${name}` });
  return [registered.status, posted.status];
}

async function authorsOf(api: string): Promise<string[]> {
  const messages = (await (await call(api, "GET", "/msgs?no=1000")).json()) as { user: string }[];
  return messages.map((m) => m.user).sort();
}

test("a second serve on the same DATA_DIR exits 1 naming the directory and its holder; no write is lost", async () => {
  const dataDir = freshDataDir();
  const first = await serving({ DATA_DIR: dataDir });
  const acknowledged: string[] = [];
  const signUpAll = async (names: string[]) => {
    for (const name of names) {
      expect(await signUp(first.api, name)).toEqual([204, 204]);
      acknowledged.push(name);
    }
  };
  await signUpAll(["before1", "before2", "before3"]);

  // Sign-ups keep going while the second process starts and gives up.
  const second = serve({ DATA_DIR: dataDir });
  let settled = false;
  void second.finally(() => {
    settled = true;
  });
  for (let i = 1; !settled || i <= 3; i++) await signUpAll([`during${i}`]);
  const attempt = await second;
  expect(attempt).toMatchObject({ listening: false, code: 1 });
  const { stderr } = attempt as { stderr: string };
  expect(stderr).toContain(`the embedded database in ${dataDir} is in use by process ${first.proc.pid} (`);
  expect(stderr).toContain(IN_USE_HINT);

  await signUpAll(["after1", "after2", "after3"]);
  expect(await first.stop()).toBe(0);
  const restarted = await serving({ DATA_DIR: dataDir });
  expect(await authorsOf(restarted.api)).toEqual(acknowledged.sort());
}, 240_000);

test.each([
  ["the embedded database", "PORT"],
  ["the embedded database", "API_PORT"],
  ["the embedded database", "METRICS_PORT"],
  ["PostgreSQL", "PORT"],
])(
  "on %s, a %s that another process listens on stops serve with exit 1",
  async (driver, variable) => {
    // The other process asks for SO_REUSEPORT, as serve itself did: the kernel
    // would let a second socket with that flag share the port.
    const holder = Bun.serve({ port: 0, hostname: "127.0.0.1", reusePort: true, fetch: () => new Response("taken") });
    cleanups.push(() => holder.stop(true));
    const database: Record<string, string> = driver === "PostgreSQL" ? { DATABASE_URL: await freshDatabase() } : {};
    const attempt = await serve({ DATA_DIR: freshDataDir(), [variable]: String(holder.port), ...database });
    expect(attempt).toMatchObject({ listening: false, code: 1 });
    expect((attempt as { stderr: string }).stderr).toContain(`port ${holder.port} is already in use`);
    expect(await (await fetch(`http://127.0.0.1:${holder.port}/`)).text()).toBe("taken");
  },
  120_000,
);

describe("operator commands beside a running embedded server", () => {
  const own: (() => unknown)[] = [];
  let server: Server;
  let dataDir = "";
  let legacy = "";
  beforeAll(async () => {
    dataDir = freshDataDir(own);
    legacy = join(tempDir(own), "minitwit.db");
    const sqlite = new Sqlite(legacy);
    sqlite.exec(readFileSync(join(import.meta.dir, "..", "fixtures", "original-schema.sql"), "utf8"));
    sqlite.close();
    server = await serving({ DATA_DIR: dataDir }, own);
    expect(await signUp(server.api, "zed")).toEqual([204, 204]);
  }, 120_000);
  afterAll(async () => {
    for (const cleanup of own.splice(0).reverse()) await cleanup();
  });

  test.each([
    [["messages", "--user", "zed"], "in use"],
    [["flag", "1"], "in use"],
    [["unflag", "1"], "in use"],
    [["migrate"], "in use"],
    [["seed", "--users", "2", "--messages", "0"], "in use"],
    [["import", "--from", "LEGACY"], "in use"],
    [["backup", "--output", "/tmp/minitwit-never-written.sql.gz"], "in use"],
    [["backup"], "needs PostgreSQL"],
    [["restore", "--latest"], "needs PostgreSQL"],
  ])(
    "%j is refused with exit 1: the database %s",
    async (args, reason) => {
      const result = await runMinitwit(
        args.map((arg) => (arg === "LEGACY" ? legacy : arg)),
        { DATA_DIR: dataDir, LOG_LEVEL: "silent" },
      );
      expect(result).toMatchObject({ code: 1, stdout: "" });
      if (reason === "in use") {
        expect(result.stderr).toContain(
          `the embedded database in ${dataDir} is in use by process ${server.proc.pid} (`,
        );
        expect(result.stderr).toContain(IN_USE_HINT);
      } else {
        expect(result.stderr).toContain(`${args[0]} needs PostgreSQL`);
        expect(result.stderr).toContain("is backed up with `minitwit backup --output FILE` while minitwit is stopped");
      }
    },
    60_000,
  );
});

test("a serve killed with SIGKILL leaves no lock behind: the next one starts at once and owns the directory", async () => {
  const dataDir = freshDataDir();
  const killed = await serving({ DATA_DIR: dataDir });
  expect(await signUp(killed.api, "alice")).toEqual([204, 204]);
  killed.proc.kill("SIGKILL");
  await killed.proc.exited;

  const next = await serving({ DATA_DIR: dataDir });
  const beside = await runMinitwit(["messages"], { DATA_DIR: dataDir, LOG_LEVEL: "silent" });
  expect(beside.code).toBe(1);
  expect(beside.stderr).toContain(`is in use by process ${next.proc.pid} (`);
  expect(await authorsOf(next.api)).toEqual(["alice"]);
  expect(await next.stop()).toBe(0);
}, 240_000);
