// A database move as operators live it: three `minitwit serve` replicas run
// as MiniTwit's own role with DATABASE_URL listing the old server and the
// new one, under a writer and a reader on every replica; `replicate start`,
// `status` and `cutover` move the data; the replicas follow by themselves.
// No request fails, none waits more than 2 s, every acknowledged write is on
// the new database exactly once, and the old one is left alone. A replica
// that lists only the old server is not ready, and a backup follows the move.
import { afterAll, beforeAll, expect, test } from "bun:test";
import postgres from "postgres";
import { runMinitwit } from "../support/cli";
import { type Cluster, freePort, startCluster } from "../support/postgres";
import { type ServeProcess, spawnServe } from "../support/serve-process";
import { apiClient, SIMULATOR_AUTH } from "../support/server";

const ROLE = "minitwit_app";
const ROLE_PASSWORD = "app-secret";
const WRITERS = ["ada", "bob", "cy"];
/** Bounds of the load: it stops by itself after this many requests or this long. */
const MAX_REQUESTS = 20_000;
const MAX_LOAD_MS = 120_000;

let source: Cluster;
let target: Cluster;
const replicas: { proc: ServeProcess; web: string; api: string }[] = [];

const superuser = (cluster: Cluster) => cluster.url("minitwit");
const appUrl = (...clusters: Cluster[]) =>
  `postgres://${ROLE}:${ROLE_PASSWORD}@${clusters.map((c) => `127.0.0.1:${c.port}`).join(",")}/minitwit`;

beforeAll(async () => {
  [source, target] = [await startCluster(), await startCluster()];
  for (const cluster of [source, target]) {
    const admin = postgres(cluster.url("postgres"), { max: 1, onnotice: () => {} });
    await admin.unsafe(`create role ${ROLE} login password '${ROLE_PASSWORD}'`);
    // On the source MiniTwit's role owns its database; the target's is made by the operator's superuser.
    await admin.unsafe(`create database minitwit${cluster === source ? ` owner ${ROLE}` : ""}`);
    await admin.end();
  }
  for (let i = 0; i < 3; i++) {
    const [web, api] = [await freePort(), await freePort()];
    const proc = spawnServe({ DATABASE_URL: appUrl(source, target), PORT: String(web), API_PORT: String(api) });
    replicas.push({ proc, web: `http://127.0.0.1:${web}`, api: `http://127.0.0.1:${api}` });
  }
  for (const r of replicas) await r.proc.ready(r.web, 60_000);
  for (const user of [...WRITERS, "reader"]) {
    const res = await apiClient(replicas[0]?.api as string).post("/register", {
      username: user,
      email: `${user}@x.org`,
      pwd: "pw",
    });
    expect(res.status).toBe(204);
  }
}, 120_000);

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.proc.stop()));
});

interface Outcome {
  readonly kind: "write" | "read";
  readonly content: string | null;
  readonly result: number | string;
  readonly ms: number;
}

/** A writer per user and a reader, each going round the replicas; bounded in count and time. */
function startLoad() {
  const outcomes: Outcome[] = [];
  const started = Date.now();
  let running = true;
  const more = () => running && outcomes.length < MAX_REQUESTS && Date.now() - started < MAX_LOAD_MS;
  const timed = async (kind: Outcome["kind"], content: string | null, send: () => Promise<Response>) => {
    const at = performance.now();
    const result = await send().then(
      async (res) => {
        await res.arrayBuffer();
        return res.status;
      },
      (err: Error) => err.message,
    );
    outcomes.push({ kind, content, result, ms: performance.now() - at });
  };
  const writer = async (user: string) => {
    for (let n = 0; more(); n++) {
      const { api } = replicas[n % replicas.length] as (typeof replicas)[number];
      const content = `${user} moves ${n}`;
      await timed("write", content, () =>
        fetch(`${api}/msgs/${user}`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: SIMULATOR_AUTH },
          body: JSON.stringify({ content }),
        }),
      );
    }
  };
  const reader = async () => {
    for (let n = 0; more(); n++) {
      const { web, api } = replicas[n % replicas.length] as (typeof replicas)[number];
      await timed("read", null, () =>
        n % 2 === 0
          ? fetch(`${web}/public`)
          : fetch(`${api}/msgs?no=20`, { headers: { authorization: SIMULATOR_AUTH } }),
      );
    }
  };
  const done = Promise.all([...WRITERS.map(writer), reader()]);
  const writes = () => outcomes.filter((o) => o.kind === "write" && o.result === 204).length;
  return {
    outcomes,
    /** Waits until `n` more writes were acknowledged. */
    async further(n: number) {
      const goal = writes() + n;
      while (writes() < goal && more()) await Bun.sleep(20);
    },
    async stop() {
      running = false;
      await done;
      return outcomes;
    },
  };
}

const replicate = async (...args: string[]) => {
  const result = await runMinitwit(["replicate", ...args, "--from", superuser(source), "--to", superuser(target)], {});
  expect({ args, code: result.code, stderr: result.stderr }).toEqual({ args, code: 0, stderr: "" });
  return result.stdout;
};

test("three replicas follow a cutover by themselves: no request fails, none waits 2 s, no write is lost or doubled", async () => {
  const load = startLoad();
  let cutover = "";
  try {
    await load.further(60);
    const started = await replicate("start", "--wait", "--timeout", "120");
    expect(started).toContain(`the target's tables belong to ${ROLE}`);
    expect(await replicate("status")).toContain("ready");
    await load.further(60);
    cutover = await replicate("cutover", "--timeout", "120");
    await load.further(60);
  } finally {
    await load.stop();
  }
  const failed = load.outcomes.filter((o) => o.result !== (o.kind === "write" ? 204 : 200));
  const slowest = Math.max(...load.outcomes.map((o) => o.ms));
  const acknowledged = load.outcomes.filter((o) => o.kind === "write" && o.result === 204).map((o) => o.content);

  const newDb = postgres(superuser(target), { max: 1, onnotice: () => {} });
  try {
    const stored = await newDb<{ text: string; copies: number }[]>`
      select text, count(*)::int as copies from messages where text like '% moves %' group by text`;
    const copies = new Map(stored.map((m) => [m.text, m.copies]));
    const lost = acknowledged.filter((c) => !copies.has(c as string)).length;
    const doubled = stored.filter((m) => m.copies > 1).length;
    const [owner] = await newDb<
      { owner: string }[]
    >`select tableowner as owner from pg_tables where tablename = 'messages'`;
    console.log(
      `db move: requests ${load.outcomes.length}, failed ${failed.length}, lost ${lost}, doubled ${doubled}, ` +
        `slowest ${Math.round(slowest)} ms; ${/write-unavailable window: \d+ ms/.exec(cutover)?.[0]}`,
    );
    expect(failed).toEqual([]);
    expect({ lost, doubled }).toEqual({ lost: 0, doubled: 0 });
    expect(slowest).toBeLessThanOrEqual(2_000);
    expect(owner?.owner).toBe(ROLE);
  } finally {
    await newDb.end();
  }
  // Every replica writes to the new database now, and says it is ready.
  for (const [i, r] of replicas.entries()) {
    expect((await fetch(`${r.web}/readyz`)).status).toBe(200);
    expect((await apiClient(r.api).post("/msgs/ada", { content: `after the move ${i}` })).status).toBe(204);
  }
  expect(replicaLogs().some((l) => l.includes('"msg":"database moved"'))).toBe(true);
}, 300_000);

test("a replica that lists only the retired database is not ready, and says why", async () => {
  const [web, api] = [await freePort(), await freePort()];
  const stale = spawnServe({ DATABASE_URL: appUrl(source), PORT: String(web), API_PORT: String(api) });
  try {
    expect(await stale.listening()).toBe(true);
    const ready = await fetch(`http://127.0.0.1:${web}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.text()).toContain("was retired by a move to a new database");
  } finally {
    await stale.stop();
  }
}, 60_000);

test("a backup follows the move, and refuses the retired database", async () => {
  const followed = await runMinitwit(["backup", "--output", "-"], { DATABASE_URL: appUrl(source, target) });
  expect(followed.code).toBe(0);
  const retired = await runMinitwit(["backup", "--output", "-"], { DATABASE_URL: appUrl(source) });
  expect(retired.code).toBe(1);
  expect(retired.stderr).toContain("was retired by a move to a new database");
  expect(retired.stderr).not.toContain(ROLE_PASSWORD);
}, 60_000);

/** Every replica's log lines. */
function replicaLogs(): string[] {
  return replicas.flatMap((r) => r.proc.lines);
}
