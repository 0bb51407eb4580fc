// Graceful shutdown of `minitwit serve` as a rolling update sees it: SIGTERM
// arrives while requests are in flight. Each request is held inside the
// database by a table lock this test owns, so it is provably still running
// when the signal is sent; the lock is released only afterwards.
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import postgres from "postgres";
import { freePort, freshDatabase } from "./support/postgres";
import { SIMULATOR_AUTH } from "./support/server";

const root = join(import.meta.dir, "..");
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

/** `minitwit serve` as its own process, with its stdout read line by line. */
async function spawnServe(env: Record<string, string>) {
  const url = await freshDatabase();
  const [web, api] = [await freePort(), await freePort()];
  const proc = Bun.spawn(["bun", "src/main.ts", "serve"], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/tmp",
      DATABASE_URL: url,
      PORT: String(web),
      API_PORT: String(api),
      METRICS_PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
      ...env,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  cleanups.push(async () => proc.exitCode === null && proc.kill("SIGKILL"));
  const lines: Record<string, unknown>[] = [];
  const read = (async () => {
    let buffer = "";
    for await (const chunk of proc.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      for (let i = buffer.indexOf("\n"); i !== -1; i = buffer.indexOf("\n")) {
        lines.push(JSON.parse(buffer.slice(0, i)));
        buffer = buffer.slice(i + 1);
      }
    }
  })();
  const logged = (msg: string) => waitFor(() => lines.some((l) => l.msg === msg), `log line "${msg}"`);
  await logged("minitwit is listening");
  // Resolves once the process closed its stdout: every line it wrote is in `lines`.
  const exited = async () => {
    const code = await proc.exited;
    await read;
    return code;
  };
  return { proc, exited, url, lines, logged, api: `http://127.0.0.1:${api}`, web: `http://127.0.0.1:${web}` };
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string, limitMs = 30_000) {
  const until = Date.now() + limitMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`gave up waiting for ${what}`);
    await Bun.sleep(25);
  }
}

/** Locks the tables writes need until `release` is called; reads go on. */
async function lockWrites(url: string) {
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  cleanups.push(() => sql.end({ timeout: 1 }));
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let locked = false;
  const holding = sql.begin(async (tx) => {
    await tx`lock table users, messages in exclusive mode`;
    locked = true;
    await released;
  });
  await waitFor(() => locked, "the table lock");
  const waiting = async () =>
    (
      await sql`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`
    )[0]?.n as number;
  const unlock = () => {
    release();
    return holding;
  };
  return { release: unlock, waiting };
}

function post(base: string, path: string, body: unknown) {
  return fetch(base + path, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: SIMULATOR_AUTH },
    body: JSON.stringify(body),
  }).then(
    (res) => res.status,
    (err: Error) => err.message,
  );
}

test("SIGTERM: requests in flight complete with 2xx, new connections are refused, then exit 0", async () => {
  const server = await spawnServe({ SHUTDOWN_TIMEOUT_MS: "30000" });
  expect(await post(server.api, "/register", { username: "alice", email: "a@x", pwd: "p" })).toBe(204);
  const lock = await lockWrites(server.url);

  const inFlight = [
    ...[1, 2, 3].map((i) => post(server.api, "/register", { username: `user${i}`, email: "u@x", pwd: "p" })),
    ...[1, 2].map((i) => post(server.api, "/msgs/alice", { content: `tweet ${i}` })),
    post(server.web, "/api/msgs/alice", { content: "through the web port" }),
  ];
  await waitFor(async () => (await lock.waiting()) === inFlight.length, "every request to wait on the lock");

  server.proc.kill("SIGTERM");
  await server.logged("shutting down");
  expect(
    await fetch(`${server.web}/healthz`).then(
      () => "answered",
      () => "refused",
    ),
  ).toBe("refused");
  expect(server.proc.exitCode).toBeNull();

  await lock.release();
  expect(await Promise.all(inFlight)).toEqual([204, 204, 204, 204, 204, 204]);
  expect(await server.exited()).toBe(0);
  // Nothing written on the way out is lost: each request's access line, then the last word.
  const afterSignal = server.lines.slice(server.lines.findIndex((l) => l.msg === "shutting down"));
  expect(afterSignal.filter((l) => l.msg === "request").map((l) => l.status)).toEqual([204, 204, 204, 204, 204, 204]);
  expect(server.lines.at(-1)?.msg).toBe("minitwit stopped");

  const sql = postgres(server.url, { max: 1, onnotice: () => {} });
  cleanups.push(() => sql.end());
  const [counts] =
    await sql`select (select count(*)::int from users) as users, (select count(*)::int from messages) as messages`;
  expect(counts).toEqual({ users: 4, messages: 3 });
}, 90_000);

test("SIGTERM: requests that outlast SHUTDOWN_TIMEOUT_MS are cut off and the process still exits 0", async () => {
  const server = await spawnServe({ SHUTDOWN_TIMEOUT_MS: "300" });
  expect(await post(server.api, "/register", { username: "alice", email: "a@x", pwd: "p" })).toBe(204);
  const lock = await lockWrites(server.url);
  const stuck = post(server.api, "/msgs/alice", { content: "never stored in time" });
  await waitFor(async () => (await lock.waiting()) === 1, "the request to wait on the lock");

  server.proc.kill("SIGTERM");
  expect(await server.exited()).toBe(0);
  expect(server.lines.map((l) => l.msg)).toContain("in-flight requests did not finish in time; closing them");
  expect(typeof (await stuck)).toBe("string");
  await lock.release();
}, 90_000);
