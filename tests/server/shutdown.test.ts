// Graceful shutdown of `minitwit serve` as a rolling update sees it: SIGTERM
// arrives while requests are in flight. Each request is held inside the
// database by a table lock this test owns, so it is provably still running
// when the signal is sent; the lock is released only afterwards. The drain
// before it (DRAIN_DELAY_MS) is tested on its own, first.
import { afterEach, expect, test } from "bun:test";
import { connect } from "node:net";
import postgres from "postgres";
import { freePort, freshDatabase } from "../support/postgres";
import { spawnServe } from "../support/serve-process";
import { SIMULATOR_AUTH } from "../support/server";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

/** `minitwit serve` on a fresh database, with its log lines parsed. */
async function startServe(env: Record<string, string>) {
  const url = await freshDatabase();
  const [web, api, metrics] = [await freePort(), await freePort(), await freePort()];
  const server = spawnServe({
    DATABASE_URL: url,
    PORT: String(web),
    API_PORT: String(api),
    METRICS_PORT: String(metrics),
    ...env,
  });
  cleanups.push(async () => server.proc.exitCode === null && server.proc.kill("SIGKILL"));
  const lines = () => server.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  const logged = (msg: string) => waitFor(() => lines().some((l) => l.msg === msg), `log line "${msg}"`);
  if (!(await server.listening())) throw new Error(`serve exited: ${await server.stderr}`);
  return {
    proc: server.proc,
    exited: () => server.exited,
    url,
    lines,
    logged,
    api: `http://127.0.0.1:${api}`,
    web: `http://127.0.0.1:${web}`,
    metrics: `http://127.0.0.1:${metrics}`,
  };
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

/** One request on a raw keep-alive connection: the status line, and whether the server then closed it. */
function rawGet(base: string, path: string): Promise<{ status: string; closedByServer: boolean }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    let text = "";
    const socket = connect(Number(port), hostname, () =>
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: keep-alive\r\n\r\n`),
    );
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ status: text.split("\r\n")[0] ?? "", closedByServer: false });
    }, 1_000);
    socket.on("data", (chunk) => {
      text += chunk;
    });
    socket.on("error", reject);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ status: text.split("\r\n")[0] ?? "", closedByServer: true });
    });
  });
}

test("SIGTERM: for DRAIN_DELAY_MS it serves on, unready, closing each connection; then it stops listening", async () => {
  const server = await startServe({ DRAIN_DELAY_MS: "2000" });
  expect(await post(server.api, "/register", { username: "alice", email: "a@x", pwd: "p" })).toBe(204);
  expect(await rawGet(server.web, "/readyz")).toEqual({ status: "HTTP/1.1 200 OK", closedByServer: false });

  server.proc.kill("SIGTERM");
  await server.logged("draining: /readyz answers 503 and every response closes its connection");
  const drainStarted = Date.now();
  for (const base of [server.web, server.api]) {
    const ready = await fetch(`${base}/readyz`);
    expect([ready.status, await ready.text(), ready.headers.get("connection")]).toEqual([
      503,
      "not ready: draining\n",
      "close",
    ]);
  }
  // Everything else is still served, and no connection outlives its response.
  const write = await fetch(`${server.api}/msgs/alice`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: SIMULATOR_AUTH },
    body: JSON.stringify({ content: "written while draining" }),
  });
  expect([write.status, write.headers.get("connection")]).toEqual([204, "close"]);
  const page = await fetch(`${server.web}/public`);
  expect([page.status, page.headers.get("connection")]).toEqual([200, "close"]);
  expect(await rawGet(server.web, "/healthz")).toEqual({ status: "HTTP/1.1 200 OK", closedByServer: true });
  const scraped = await (await fetch(`${server.metrics}/metrics`)).text();
  expect(scraped).toContain("\nminitwit_draining 1\n");

  expect(await server.exited()).toBe(0);
  expect(Date.now() - drainStarted).toBeGreaterThanOrEqual(1_500);
  const refused = await fetch(`${server.web}/healthz`).then(
    () => "answered",
    () => "refused",
  );
  expect(refused).toBe("refused");
  const sql = postgres(server.url, { max: 1, onnotice: () => {} });
  cleanups.push(() => sql.end());
  expect([...(await sql`select text from messages`)]).toEqual([{ text: "written while draining" }]);
}, 90_000);

test("SIGTERM: requests in flight complete with 2xx, new connections are refused, then exit 0", async () => {
  const server = await startServe({ SHUTDOWN_TIMEOUT_MS: "30000", DRAIN_DELAY_MS: "0" });
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
  const afterSignal = server.lines().slice(server.lines().findIndex((l) => l.msg === "shutting down"));
  expect(afterSignal.filter((l) => l.msg === "request").map((l) => l.status)).toEqual([204, 204, 204, 204, 204, 204]);
  expect(server.lines().at(-1)?.msg).toBe("minitwit stopped");

  const sql = postgres(server.url, { max: 1, onnotice: () => {} });
  cleanups.push(() => sql.end());
  const [counts] =
    await sql`select (select count(*)::int from users) as users, (select count(*)::int from messages) as messages`;
  expect(counts).toEqual({ users: 4, messages: 3 });
}, 90_000);

test("SIGTERM: requests that outlast SHUTDOWN_TIMEOUT_MS are cut off and the process still exits 0", async () => {
  const server = await startServe({ SHUTDOWN_TIMEOUT_MS: "300", DRAIN_DELAY_MS: "0" });
  expect(await post(server.api, "/register", { username: "alice", email: "a@x", pwd: "p" })).toBe(204);
  const lock = await lockWrites(server.url);
  const stuck = post(server.api, "/msgs/alice", { content: "never stored in time" });
  await waitFor(async () => (await lock.waiting()) === 1, "the request to wait on the lock");

  server.proc.kill("SIGTERM");
  expect(await server.exited()).toBe(0);
  expect(server.lines().map((l) => l.msg)).toContain("in-flight requests did not finish in time; closing them");
  expect(typeof (await stuck)).toBe("string");
  await lock.release();
}, 90_000);
