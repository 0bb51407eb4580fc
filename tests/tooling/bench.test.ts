// The benchmark's replay: its schedule keeps the orders the simulator's
// answers depend on, and `bun bench/replay.ts` run against a test server
// replays a few hundred rows concurrently with no error and reports every
// figure docs/performance.md quotes. The yardstick answers the simulator's
// reads as MiniTwit does, and `bun run bench --compare` prints its pairs and
// median ratios. Nothing here is timed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import postgres from "postgres";
import { medianRatios, orderOf, type Pair, ratios } from "../../bench/compare-report";
import { startBareServer } from "../../bench/harness";
import { LAYERS } from "../../bench/layers-server";
import type { ReplayReport } from "../../bench/replay";
import { ScenarioSchedule } from "../../bench/schedule";
import { freshDatabase } from "../support/postgres";
import { type Action, loadScenario } from "../support/scenario";
import { apiClient, startTestServer, type TestServer } from "../support/server";

const RUN = join(import.meta.dir, "..", "..", "bench", "run.ts");

/** Runs `bun bench/run.ts` with `args`; its standard output once it has exited 0 (else the test fails with its errors). */
async function runBench(args: string[]): Promise<string> {
  const child = Bun.spawn([process.execPath, RUN, ...args], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  expect({ code, err: code === 0 ? "" : err }).toEqual({ code: 0, err: "" });
  return out;
}

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
    const script = join(import.meta.dir, "..", "..", "bench", "replay.ts");
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
    const script = join(import.meta.dir, "..", "..", "bench", "replay.ts");
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
      const script = join(import.meta.dir, "..", "..", "bench", "replay.ts");
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

  // The same users, messages and follows written to both, one message flagged, then every read compared.
  test("answers the simulator's reads with MiniTwit's statuses and shapes", async () => {
    const [minitwitUrl, bareUrl] = [await freshDatabase(), await freshDatabase()];
    const minitwit = await startTestServer("postgres", { DATABASE_URL: minitwitUrl });
    const bare = await startBareServer(bareUrl);
    try {
      const sides = [
        { api: apiClient(minitwit.api), url: minitwitUrl },
        { api: apiClient(bare.api), url: bareUrl },
      ];
      for (const { api, url } of sides) {
        for (const name of ["alice", "bob", "carol"]) {
          expect((await api.post("/register", { username: name, email: `${name}@x.io`, pwd: "pw" })).status).toBe(204);
        }
        for (const [who, content] of [
          ["alice", "one"],
          ["bob", "two <&> ü"],
          ["alice", "hidden"],
          ["alice", "three"],
        ]) {
          expect((await api.post(`/msgs/${who}`, { content })).status).toBe(204);
        }
        for (const [who, whom] of [
          ["alice", "carol"],
          ["alice", "bob"],
          ["bob", "alice"],
        ]) {
          expect((await api.post(`/fllws/${who}`, { follow: whom })).status).toBe(204);
        }
        const sql = postgres(url, { max: 1, onnotice: () => {} });
        await sql`update messages set flagged = true where text = 'hidden'`;
        await sql.end();
      }
      const paths = ["/msgs", "/msgs?no=2", "/msgs?no=x", "/msgs/alice", "/msgs/alice?no=1", "/msgs/carol"];
      paths.push("/msgs/nobody", "/fllws/alice", "/fllws/alice?no=1", "/fllws/carol", "/fllws/nobody");
      for (const path of paths) {
        const [expected, actual] = await Promise.all(sides.map(({ api }) => api.get(path)));
        // pub_date is each server's own clock: an integer on both, compared no further.
        const shape = (body: unknown) =>
          JSON.stringify(body, (key, value) => (key === "pub_date" && Number.isInteger(value) ? "int" : value));
        expect({ path, status: actual?.status, body: shape(actual?.json) }).toEqual({
          path,
          status: expected?.status as number,
          body: shape(expected?.json),
        });
      }
      expect((await sides[1]?.api.get("/msgs"))?.json).toHaveLength(3);
    } finally {
      await bare.stop();
      await minitwit.stop();
    }
  }, 60_000);

  // What `--compare --duties` measures must be MiniTwit's work, or its ratio says nothing.
  test("with the duties (bench/bare-duties.ts), it authorizes, validates, stores latest and puts on the headers", async () => {
    const url = await freshDatabase();
    const bare = await startBareServer(url, { duties: { logLevel: "info" } });
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${bare.api}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Basic ${bare.token}`, ...headers },
        body: JSON.stringify(body),
      });
    try {
      expect((await post("/register", { username: "ann", email: "ann@x.io", pwd: "pw" })).status).toBe(204);
      const tweet = await post("/msgs/ann?latest=42", { content: "hello" }, { "x-request-id": "trace-1" });
      expect(tweet.status).toBe(204);
      expect(tweet.headers.get("x-request-id")).toBe("trace-1");
      expect(tweet.headers.get("content-security-policy")).toContain("default-src 'none'");
      expect(tweet.headers.get("x-content-type-options")).toBe("nosniff");
      const stranger = await post("/msgs/ann", { content: "hi" }, { authorization: "Basic bm9ib2R5Om5vbmU=" });
      expect({ status: stranger.status, body: await stranger.json() }).toEqual({
        status: 403,
        body: { status: 403, error_msg: "You are not authorized to use this resource!" },
      });
      expect((await post("/msgs/ann", { content: "x".repeat(1_001) })).status).toBe(400);
      expect((await post("/fllws/ann", { follow: 7 })).status).toBe(400);
      // `latest` goes to the row other replicas read, within the tracker's interval.
      const sql = postgres(url, { max: 1, onnotice: () => {} });
      try {
        let stored: unknown;
        for (let i = 0; i < 50 && stored !== 42; i++, await Bun.sleep(20)) {
          stored = Number((await sql`select value from latest where id = 1`)[0]?.value);
        }
        expect(stored).toBe(42);
      } finally {
        await sql.end();
      }
    } finally {
      await bare.stop();
    }
  }, 60_000);
});

describe("bun run bench's command line", () => {
  test.each([["--help"], ["-h"]])("%s prints the usage and exits 0, starting nothing", (flag) => {
    const run = Bun.spawnSync([process.execPath, RUN, flag]);
    expect({ code: run.exitCode, stderr: run.stderr.toString() }).toEqual({ code: 0, stderr: "" });
    const usage = run.stdout.toString();
    expect(usage).toStartWith("Usage: bun run bench");
    for (const mode of ["timelines", "explain", "startup", "latest", "writes", "layers", "--compare", "--binary PATH"])
      expect(usage).toContain(mode);
  });

  test("an unknown flag is a usage error (exit 2) with a hint, not a crash", () => {
    const run = Bun.spawnSync([process.execPath, RUN, "--no-such-flag"]);
    expect(run.exitCode).toBe(2);
    const stderr = run.stderr.toString();
    expect(stderr).toContain("Unknown option '--no-such-flag'");
    expect(stderr).toContain("Try: bun run bench --help");
    expect(stderr).not.toContain("TypeError");
  });
});

describe("bun run bench --compare", () => {
  const pair = (minitwit: number, yardstick: number, errors = 0): Pair => ({
    order: ["MiniTwit", "yardstick"],
    minitwit: { "req/s": minitwit, "peak RSS MB": 100 },
    yardstick: { "req/s": yardstick, "peak RSS MB": 0 },
    errors: { MiniTwit: errors, yardstick: 0 },
  });

  test.each([
    { pairs: [pair(90, 100), pair(30, 100), pair(160, 200)], median: 0.8 },
    { pairs: [pair(50, 100), pair(70, 100), pair(90, 100), pair(100, 100)], median: 0.8 },
  ])("takes the median of the pairs' ratios ($median)", ({ pairs, median }) => {
    expect(medianRatios(pairs)).toEqual({ "req/s": median });
  });

  test("gives each figure both sides have its ratio, but none where the yardstick's is 0", () => {
    expect(ratios(pair(90, 100))).toEqual({ "req/s": 0.9 });
  });

  test("alternates which side goes first", () => {
    expect([0, 1, 2, 3].map((i) => orderOf(i)[0])).toEqual(["MiniTwit", "yardstick", "MiniTwit", "yardstick"]);
  });

  test("refuses fewer than three pairs before starting anything", () => {
    const run = Bun.spawnSync([process.execPath, RUN, "--compare", "--pairs", "2"]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr.toString()).toContain("--pairs must be a whole number of at least 3");
  });

  test("runs three pairs of a few rows with reads and prints each pair and the median ratios", async () => {
    const args = ["--compare", "--rows", "40", "--concurrency", "2", "--reads", "0.5"];
    const out = await runBench(args);
    expect(out).toContain("pair 1 (MiniTwit first, then yardstick); errors: MiniTwit 0, yardstick 0");
    expect(out).toContain("pair 2 (yardstick first, then MiniTwit); errors: MiniTwit 0, yardstick 0");
    expect(out).toContain("pair 3 (MiniTwit first, then yardstick)");
    expect(out).toContain("errors in all pairs: MiniTwit 0, yardstick 0");
    const summary = out.slice(out.indexOf("median ratio MiniTwit / yardstick over 3 pairs"));
    for (const figure of ["req/s", "p99 tweet ms", "p99 GET /msgs ms", "server CPU µs/request", "peak RSS MB"]) {
      // The figure, its median, and the three ratios it is the median of.
      const row = new RegExp(`^${figure.replaceAll("/", "\\/")}\\s+([\\d.]+)\\s+([\\d.]+) ([\\d.]+) ([\\d.]+)$`, "m");
      const [, median, ...each] = (row.exec(summary) ?? []).map(Number);
      expect({ figure, median: (median ?? 0) > 0 }).toEqual({ figure, median: true });
      expect(median).toBe(each.sort((a, b) => a - b)[1] as number);
    }
  }, 90_000);
});

describe("bun run bench writes", () => {
  test("runs MiniTwit and the yardstick in turn and prints each one's CPU per write, by thread", async () => {
    const args = ["writes", "--compare", "--requests", "90", "--warmup", "30", "--runs", "1", "--concurrency", "2"];
    const out = await runBench(args);
    for (const side of ["MiniTwit", "yardstick"]) {
      const line = new RegExp(
        `^${side}\\s+server (\\d+) µs/write \\(.*\\); PostgreSQL (\\d+) µs/write; errors 0$`,
        "m",
      );
      expect({ side, printed: line.test(out) }).toEqual({ side, printed: true });
    }
    expect(out).toContain("90 writes after 30 to warm up, 2 clients; medians:");
  }, 90_000);
});

describe("bun run bench layers", () => {
  test("runs every variant of the API port on the stand-in database with no error, and prints each one's CPU per write", async () => {
    const out = await runBench(["layers", "--requests", "60", "--warmup", "30", "--runs", "1", "--concurrency", "2"]);
    const variants = ["Bun.serve", "Elysia", ...LAYERS.map((l) => `Elysia + ${l}`), "the API port (createApp)"];
    for (const variant of variants) {
      const printed = new RegExp(`^  ${variant.replace(/[.()+]/g, "\\$&")}\\s+\\d+ µs`, "m").test(out);
      expect({ variant, printed }).toEqual({ variant, printed: true });
    }
    // runBench has checked the exit status: 0 only when every write answered 204.
    expect(out).not.toContain("did not answer 204");
  }, 90_000);
});
