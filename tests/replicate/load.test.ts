// Moving production under load: a writer posts messages through the simulator
// API without pause while `replicate start` copies the source to a new
// cluster and `cutover` switches; then MiniTwit runs on the target. Every
// message acknowledged with 204, before or after the cutover, is on the
// target exactly once; writes refused during the window are nowhere; the
// first insert on the target gets a fresh id; no slot or subscription remains.
import { expect, test } from "bun:test";
import { join } from "node:path";
import postgres from "postgres";
import { startCluster } from "../support/postgres";
import { apiClient, startTestServer, type TestServer } from "../support/server";

/** Runs `minitwit replicate <args>` as its own process, as an operator would; returns its output. */
async function replicateCli(args: string[]): Promise<string> {
  const child = Bun.spawn(["bun", join(import.meta.dir, "..", "..", "src", "main.ts"), "replicate", ...args], {
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
  });
  const [out, err, code] = [
    await new Response(child.stdout).text(),
    await new Response(child.stderr).text(),
    await child.exited,
  ];
  if (code !== 0) throw new Error(`replicate ${args[0]} exited with ${code}: ${err}`);
  return out;
}

/** Posts numbered messages one after another to whichever API `endpoint()` names, until stopped. */
function startWriter(endpoint: () => string) {
  const acknowledged: string[] = [];
  const refused: { content: string; status: number; at: number }[] = [];
  let running = true;
  let sequence = 0;
  const done = (async () => {
    while (running) {
      const content = `load ${sequence++}`;
      const response = await apiClient(endpoint()).post(`/msgs/writer?latest=${sequence}`, { content });
      if (response.status === 204) acknowledged.push(content);
      else refused.push({ content, status: response.status, at: Date.now() });
    }
  })();
  const until = async (count: number) => {
    while (acknowledged.length < count) await Bun.sleep(20);
  };
  return {
    acknowledged,
    refused,
    until,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

test("under continuous writes, every acknowledged message reaches the new database exactly once", async () => {
  const [sourceCluster, targetCluster] = [await startCluster(), await startCluster()];
  const from = sourceCluster.url("postgres");
  const to = targetCluster.url("postgres");

  const servers: TestServer[] = [];
  const old = await startTestServer("postgres", { DATABASE_URL: from, SHUTDOWN_TIMEOUT_MS: "1000" });
  servers.push(old);
  const oldApi = apiClient(old.api);
  expect((await oldApi.post("/register", { username: "writer", email: "w@example.com", pwd: "pw" })).status).toBe(204);
  expect((await oldApi.post("/register", { username: "reader", email: "r@example.com", pwd: "pw" })).status).toBe(204);
  expect((await oldApi.post("/fllws/reader", { follow: "writer" })).status).toBe(204);

  let current = old.api;
  const writer = startWriter(() => current);
  let window = "";
  let [cutoverStarted, cutoverEnded] = [0, 0];
  try {
    await writer.until(100);
    await replicateCli(["start", "--from", from, "--to", to, "--wait", "--timeout", "120"]);
    await writer.until(writer.acknowledged.length + 100);
    cutoverStarted = Date.now();
    const cutover = await replicateCli(["cutover", "--from", from, "--to", to, "--timeout", "120"]);
    cutoverEnded = Date.now();
    window = /write-unavailable window: \d+ ms/.exec(cutover)?.[0] ?? cutover;
    expect(window).toMatch(/^write-unavailable window: \d+ ms/);

    // The old database refuses every write from now on.
    const late = await oldApi.post("/msgs/writer", { content: "sent to the old database" });
    expect(late.status).toBeGreaterThanOrEqual(500);

    const fresh = await startTestServer("postgres", { DATABASE_URL: to, SHUTDOWN_TIMEOUT_MS: "1000" });
    servers.push(fresh);
    const first = await apiClient(fresh.api).post("/msgs/writer", { content: "first on the new database" });
    expect(first.status).toBe(204);
    current = fresh.api;
    await writer.until(writer.acknowledged.length + 100);
  } finally {
    await writer.stop();
    for (const server of servers) await server.stop();
  }

  const target = postgres(to, { max: 1, onnotice: () => {} });
  const source = postgres(from, { max: 1, onnotice: () => {} });
  try {
    const stored = await target<{ text: string; copies: number }[]>`
      select text, count(*)::int as copies from messages where text like 'load %' group by text`;
    expect(stored.filter((m) => m.copies !== 1)).toEqual([]);
    expect(stored.map((m) => m.text).sort()).toEqual([...writer.acknowledged].sort());
    const [follows] = await target`select count(*)::int as n from followers`;
    expect(follows?.n).toBe(1);
    for (const sql of [source, target]) {
      const [slots] = await sql`select count(*)::int as n from pg_replication_slots`;
      const [subscriptions] = await sql`select count(*)::int as n from pg_subscription`;
      const [publications] = await sql`select count(*)::int as n from pg_publication`;
      expect({ slots: slots?.n, subscriptions: subscriptions?.n, publications: publications?.n }).toEqual({
        slots: 0,
        subscriptions: 0,
        publications: 0,
      });
    }
  } finally {
    await Promise.all([target.end(), source.end()]);
  }
  const during = writer.refused.filter((r) => r.at >= cutoverStarted && r.at <= cutoverEnded);
  const statuses = [...new Set(during.map((r) => r.status))].join(", ") || "none";
  console.log(
    `${window}; ${writer.acknowledged.length} writes acknowledged; ${during.length} refused while the cutover ran ` +
      `(status ${statuses})`,
  );
}, 300_000);
