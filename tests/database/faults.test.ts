// Database faults: when PostgreSQL goes away, MiniTwit answers 503 quickly
// and /readyz turns 503; when it comes back, writes resume with no restart,
// and every write that was acknowledged with 204 is in the database.
import { afterAll, beforeAll, expect, test } from "bun:test";
import postgres from "postgres";
import { type Cluster, startCluster } from "../support/postgres";
import { apiClient, SIMULATOR_AUTH, startTestServer, type TestServer } from "../support/server";

let cluster: Cluster;
let server: TestServer;

beforeAll(async () => {
  cluster = await startCluster(0, { persistent: true });
  const admin = postgres(cluster.url("postgres"), { max: 1, onnotice: () => {} });
  await admin`create database faults`;
  await admin.end();
  server = await startTestServer("postgres", { DATABASE_URL: cluster.url("faults") });
  await apiClient(server.api).post("/register", { username: "writer", email: "w@x.dk", pwd: "pw" });
});
// After a restart, closing the pool may wait out postgres.js's 5 s end timeout.
afterAll(async () => {
  await server.stop();
}, 30_000);

test("Postgres stops under a writer: 503s, readyz 503, then 204s again without a restart, nothing acknowledged lost", async () => {
  const acknowledged: string[] = [];
  const statuses: number[] = [];
  let hung = 0;
  let n = 0;
  let running = true;
  const post = async () => {
    const content = `write ${n++}`;
    try {
      const res = await fetch(`${server.api}/msgs/writer`, {
        method: "POST",
        headers: { authorization: SIMULATOR_AUTH, "content-type": "application/json" },
        body: JSON.stringify({ content }),
        signal: AbortSignal.timeout(10_000),
      });
      statuses.push(res.status);
      if (res.status === 204) acknowledged.push(content);
    } catch {
      hung++; // no answer within 10 s: the pile-up this test guards against
    }
  };
  const writer = (async () => {
    while (running) {
      await Promise.all([post(), post()]);
      await Bun.sleep(5);
    }
  })();
  const waitFor = async (what: () => boolean) => {
    for (let i = 0; i < 600 && !what(); i++) await Bun.sleep(50);
    expect(what()).toBe(true);
  };

  await waitFor(() => acknowledged.length >= 50);
  await cluster.pg.stop();
  const before = statuses.length;
  await waitFor(() => statuses.slice(before).filter((s) => s === 503).length >= 10);
  const down = await fetch(`${server.web}/readyz`);
  expect(down.status).toBe(503);
  const body = await apiClient(server.api).get("/msgs/writer");
  expect(body.status).toBe(503);
  expect(body.json.error_msg).toContain("database is unavailable");

  await cluster.pg.start();
  const ackedBeforeRestart = acknowledged.length;
  await waitFor(() => acknowledged.length >= ackedBeforeRestart + 50);
  running = false;
  await writer;

  expect((await fetch(`${server.web}/readyz`)).status).toBe(200);
  expect(hung).toBe(0);
  // Only 204 and 503: no 500s, no other failures.
  expect([...new Set(statuses)].sort()).toEqual([204, 503]);
  const sql = postgres(cluster.url("faults"), { max: 1 });
  const stored = await sql<{ text: string }[]>`select text from messages`;
  await sql.end();
  const counts = new Map<string, number>();
  for (const { text } of stored) counts.set(text, (counts.get(text) ?? 0) + 1);
  for (const content of acknowledged) expect(counts.get(content)).toBe(1);
}, 120_000);
