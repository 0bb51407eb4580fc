// The benchmark's replay: its schedule keeps the orders the simulator's
// answers depend on, and `bun bench/replay.ts` run against a test server
// replays a few hundred rows concurrently with no error and reports every
// figure docs/performance.md quotes. Nothing here is timed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import postgres from "postgres";
import { startBareServer } from "../bench/harness";
import type { ReplayReport } from "../bench/replay";
import { ScenarioSchedule } from "../bench/schedule";
import { freshDatabase } from "./support/postgres";
import { type Action, loadScenario } from "./support/scenario";
import { apiClient, startTestServer, type TestServer } from "./support/server";

const ROWS = 400;

describe("the replay schedule", () => {
  test("keeps each actor's rows in order and follows after their target's registration", async () => {
    const actions = await loadScenario(3000);
    const schedule = new ScenarioSchedule(actions);
    const running: Action[] = [];
    const done = new Set<number>();
    const lastDone = new Map<string, number>();
    let random = 12345;
    const next = () => {
      random = (random * 1103515245 + 12345) % 2 ** 31;
      return random / 2 ** 31;
    };
    const registeredAt = new Map<string, number>();
    for (const a of actions) if (a.command === "register" && !registeredAt.has(a.user)) registeredAt.set(a.user, a.id);

    while (!schedule.finished) {
      // Up to 16 rows in flight; they complete in a random order.
      while (running.length < 16) {
        const taken = schedule.take();
        if (taken === null) break;
        const previous = actions.filter((a) => a.user === taken.user && a.id < taken.id).at(-1);
        expect(lastDone.get(taken.user)).toBe(previous?.id);
        if (taken.command === "follow" || taken.command === "unfollow") {
          const target = registeredAt.get(taken.target);
          if (target !== undefined && target < taken.id) expect(done.has(target)).toBe(true);
        }
        running.push(taken);
      }
      const [finished] = running.splice(Math.floor(next() * running.length), 1);
      if (finished === undefined) throw new Error("nothing runnable and nothing running");
      done.add(finished.id);
      lastDone.set(finished.user, finished.id);
      schedule.complete(finished);
    }
    expect(done.size).toBe(actions.length);
  });
});

describe("bun bench/replay.ts", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("postgres");
  }, 120_000);
  afterAll(() => server.stop());

  test(`replays ${ROWS} rows with 8 clients and mixed-in reads, with no error and a full report`, async () => {
    const script = join(import.meta.dir, "..", "bench", "replay.ts");
    const args = ["--url", server.api, "--web-url", server.web, "--rows", String(ROWS), "--concurrency", "8"];
    const child = Bun.spawn(
      [process.execPath, script, ...args, "--reads", "0.5", "--pid", String(process.pid), "--json"],
      { stdout: "pipe", stderr: "pipe" },
    );
    const [out, err, code] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ]);
    expect(err).toBe("");
    expect(code).toBe(0);
    const report = JSON.parse(out) as ReplayReport;
    expect(report.errors).toBe(0);
    expect(report.errorSamples).toEqual([]);
    expect(report.rows).toBe(ROWS);
    expect(report.concurrency).toBe(8);
    expect(report.connection).toBe("keep-alive");
    // One read per two writes, after the first registration.
    expect(report.requests).toBeGreaterThan(ROWS + ROWS / 2 - 5);
    expect(report.requestsPerSecond).toBeGreaterThan(0);
    for (const label of ["register", "tweet", "follow", "GET /msgs", "GET /public (web)", "GET /<user> (web)", "all"]) {
      const summary = report.latency[label];
      expect(summary?.count).toBeGreaterThan(0);
      expect(summary?.p50).toBeLessThanOrEqual(summary?.p95 as number);
      expect(summary?.p95).toBeLessThanOrEqual(summary?.p99 as number);
      expect(summary?.p99).toBeLessThanOrEqual(summary?.max as number);
    }
    expect(report.server?.peakRssMb).toBeGreaterThan(0);
    expect(report.server?.sampledMaxRssMb).toBeGreaterThan(0);
    expect(report.clientCpuSeconds).toBeGreaterThanOrEqual(0);

    // Nothing was lost on the way: the API holds every tweet of the replayed rows.
    const tweets = (await loadScenario(ROWS)).filter((a) => a.command === "tweet").length;
    const stored = (await apiClient(server.api).get(`/msgs?no=${tweets + 10}`)).json as unknown[];
    expect(stored).toHaveLength(tweets);
  }, 120_000);

  test("answers --help, and refuses a bad flag with the usage", () => {
    const script = join(import.meta.dir, "..", "bench", "replay.ts");
    const help = Bun.spawnSync([process.execPath, script, "--help"]);
    expect(help.exitCode).toBe(0);
    expect(help.stdout.toString()).toContain("--concurrency N");
    const bad = Bun.spawnSync([process.execPath, script, "--concurrency", "zero"]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.toString()).toContain("--concurrency must be a whole number");
  });
});

describe("the bare yardstick (bench/bare-server.ts)", () => {
  test(`answers the first ${ROWS} rows as MiniTwit does and stores every tweet`, async () => {
    const url = await freshDatabase();
    const bare = await startBareServer(url);
    try {
      const script = join(import.meta.dir, "..", "bench", "replay.ts");
      const child = Bun.spawn(
        [process.execPath, script, "--url", bare.api, "--rows", String(ROWS), "--concurrency", "8", "--json"],
        { stdout: "pipe", stderr: "pipe" },
      );
      const [out, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
      expect(code).toBe(0);
      const report = JSON.parse(out) as ReplayReport;
      expect(report.errors).toBe(0);
      expect(report.requests).toBe(ROWS);
    } finally {
      await bare.stop();
    }
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    const [row] = await sql`select count(*)::int as n from messages`;
    await sql.end();
    expect(row?.n).toBe((await loadScenario(ROWS)).filter((a) => a.command === "tweet").length);
  }, 120_000);
});
