#!/usr/bin/env bun
import { availableParallelism, loadavg, totalmem } from "node:os";
// `bun run bench`: one command that reproduces a figure of docs/performance.md.
// It starts its own PostgreSQL (or uses the embedded PGlite) and MiniTwit as a
// child process, runs the benchmark, prints the report, and cleans up.
// The commands and flags: USAGE below (`bun run bench --help` prints it).
import { parseArgs } from "node:util";
import { MIN_PAIRS, runCompare } from "./compare";
import { databaseCounters } from "./databases";
import { runExplain } from "./explain";
import { removeDir, startBareServer, startBenchPostgres, startMiniTwit } from "./harness";
import { runLatest } from "./latest";
import { runLayers } from "./layers";
import { DEFAULTS, formatReport, replay } from "./replay";
import { runEmbeddedStartup, runStartup } from "./startup";
import { runTimelines } from "./timelines";
import { runWrites } from "./writes";

const USAGE = `Usage: bun run bench [replay] [--pglite] [--close] [--concurrency N] [--rows N] [--reads R]
       bun run bench --bare [--no-hash] [--close] [--concurrency N] [--reads R]   the same against bench/bare-server.ts, a yardstick
       bun run bench --compare [--pairs N] [--close] [--concurrency N | --one-client] [--rows N] [--reads R] [--duties]
                                                    MiniTwit and the yardstick in pairs; the median ratios;
                                                    --duties: the yardstick with MiniTwit's per-request
                                                    duties (bench/bare-duties.ts) in MiniTwit's place
       bun run bench timelines [--users N] [--messages N] [--bare | --compare [--pairs N]]   reads at 1,000,000 messages
       bun run bench explain [--users N] [--messages N]     the plans of the timeline queries
       bun run bench startup [--pglite]                     start to ready, 10 times; --pglite: the embedded
                                                            database's first start on an empty DATA_DIR, peak RSS
       bun run bench latest                                 the latest value: awaited UPDATEs against LatestActionTracker
       bun run bench writes [--compare] [--requests N] [--warmup N] [--runs N]
                                                            server CPU per API write at steady state, by thread
       bun run bench layers [--requests N] [--warmup N] [--runs N]
                                                            server CPU per API write of each layer of the API port,
                                                            PostgreSQL replaced by a stand-in

Common flags: --binary PATH (a compiled minitwit instead of \`bun src/main.ts\`),
--log-level LEVEL (default info, written to /dev/null), --pool N
(DATABASE_POOL_MAX), --no-fsync (a Postgres that does not wait for the disk),
--database-params K=V[&K=V] (session settings appended to the server's DATABASE_URL, with --compare to both,
e.g. synchronous_commit=off, as an operator would set them), --json, --help.`;

/** The command line; an unknown flag or a missing value is a usage error (exit 2), --help prints USAGE. */
function parseCommandLine() {
  try {
    return parseArgs({
      args: process.argv.slice(2),
      allowPositionals: true,
      options: {
        pglite: { type: "boolean" },
        bare: { type: "boolean" },
        compare: { type: "boolean" },
        duties: { type: "boolean" },
        pairs: { type: "string" },
        "one-client": { type: "boolean" },
        "no-hash": { type: "boolean" },
        close: { type: "boolean" },
        concurrency: { type: "string" },
        rows: { type: "string" },
        reads: { type: "string" },
        binary: { type: "string" },
        "log-level": { type: "string" },
        pool: { type: "string" },
        "no-fsync": { type: "boolean" },
        "database-params": { type: "string" },
        users: { type: "string" },
        messages: { type: "string" },
        requests: { type: "string" },
        runs: { type: "string" },
        warmup: { type: "string" },
        "database-url": { type: "string" },
        profile: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    console.error(`${(err as Error).message.split("\n")[0]}\nTry: bun run bench --help`);
    process.exit(2);
  }
}

const { values, positionals } = parseCommandLine();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const mode = positionals[0] ?? "replay";
/** postgres.js sends DATABASE_URL's unknown query parameters as session settings. */
const withParams = (url: string) => (values["database-params"] ? `${url}?${values["database-params"]}` : url);
const number = (value: string | undefined, fallback: number) => (value === undefined ? fallback : Number(value));

/** A mistake on the command line: the message, a hint, exit 2, before anything is started. */
function usage(message: string): never {
  console.error(
    `${message}\nTry: bun run bench --compare --pairs ${MIN_PAIRS} (bun run bench --help lists every flag)`,
  );
  process.exit(2);
}

if (values["one-client"] && values.concurrency !== undefined)
  usage("--one-client and --concurrency exclude each other");
if (values.compare && (values.bare || values.pglite || values["no-hash"])) {
  usage("--compare runs both MiniTwit and the yardstick on PostgreSQL (no --bare, --pglite or --no-hash)");
}
if (values.compare && !["replay", "timelines", "writes"].includes(mode)) {
  usage("--compare applies to replay, timelines and writes");
}
if (values.duties && (!values.compare || mode !== "replay")) usage("--duties applies to --compare of the scenario");
if (values.bare && mode !== "replay" && mode !== "timelines") usage("--bare applies to replay and timelines");
if (values.pairs !== undefined && (!values.compare || mode === "writes")) {
  usage("--pairs applies to --compare of replay and timelines (writes takes --runs)");
}
const pairs = number(values.pairs, MIN_PAIRS);
if (!Number.isInteger(pairs) || pairs < MIN_PAIRS) usage(`--pairs must be a whole number of at least ${MIN_PAIRS}`);
const concurrency = (fallback: number) => (values["one-client"] ? 1 : number(values.concurrency, fallback));
const common = {
  binary: values.binary ?? null,
  logLevel: values["log-level"] ?? "info",
  poolMax: values.pool === undefined ? undefined : Number(values.pool),
  durable: values["no-fsync"] !== true,
  profileDir: values.profile,
};

console.error(
  `machine: ${availableParallelism()} cores, ${Math.round(totalmem() / 2 ** 30)} GiB; ${new Date().toISOString()}; ` +
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}; bun ${Bun.version}; command: bun run bench ${process.argv.slice(2).join(" ")}`,
);

switch (mode) {
  case "replay":
    if (values.compare) {
      const ok = await runCompare({
        pairs,
        concurrency: concurrency(DEFAULTS.concurrency),
        rows: number(values.rows, DEFAULTS.rows),
        close: values.close === true,
        reads: number(values.reads, 0),
        json: values.json === true,
        durable: common.durable,
        server: common,
        withParams,
        duties: values.duties === true,
      });
      process.exitCode = ok ? 0 : 1;
    } else await runReplay();
    break;
  case "timelines":
    process.exitCode = (await runTimelines({
      ...common,
      users: number(values.users, 10_000),
      messages: number(values.messages, 1_000_000),
      requests: number(values.requests, 2_000),
      concurrency: concurrency(16),
      json: values.json === true,
      databaseUrl: values["database-url"] ?? null,
      withParams,
      target: values.compare ? { compare: pairs } : values.bare ? "yardstick" : "MiniTwit",
    }))
      ? 0
      : 1;
    break;
  case "explain":
    await runExplain({
      users: number(values.users, 10_000),
      messages: number(values.messages, 1_000_000),
      databaseUrl: values["database-url"] ?? null,
    });
    break;
  case "startup":
    await (values.pglite ? runEmbeddedStartup(common) : runStartup(common));
    break;
  case "latest":
    await runLatest({ ...common, requests: number(values.requests, 10_000) });
    break;
  case "writes":
    process.exitCode = (await runWrites({
      server: common,
      durable: common.durable,
      requests: number(values.requests, 40_000),
      warmup: number(values.warmup, 3_000),
      concurrency: concurrency(16),
      runs: number(values.runs, 3),
      compare: values.compare === true,
    }))
      ? 0
      : 1;
    break;
  case "layers":
    process.exitCode = (await runLayers({
      requests: number(values.requests, 20_000),
      warmup: number(values.warmup, 3_000),
      concurrency: concurrency(16),
      rounds: number(values.runs, 3),
    }))
      ? 0
      : 1;
    break;
  default:
    console.error(
      `unknown benchmark "${mode}"; one of: replay, timelines, explain, startup, latest, writes, layers\nTry: bun run bench --help`,
    );
    process.exit(2);
}

async function runReplay(): Promise<void> {
  // Checked before a PostgreSQL is started, so a refusal leaves nothing running.
  if (values["no-hash"] && !values.bare) throw new Error("--no-hash applies to --bare only");
  if (values.bare && values.pglite) throw new Error("--bare runs on PostgreSQL (no --pglite)");
  const pg = values.pglite ? null : await startBenchPostgres(common.durable);
  const created = pg === null ? null : await pg.createDatabase("minitwit");
  const databaseUrl = created === null ? null : withParams(created);
  const server = values.bare
    ? await startBareServer(databaseUrl as string, {
        hashPasswords: values["no-hash"] !== true,
        poolMax: common.poolMax,
      })
    : await startMiniTwit({ ...common, databaseUrl });
  let failed = false;
  try {
    const what = values.bare ? "the bare yardstick" : `MiniTwit (${pg === null ? "PGlite" : "PostgreSQL"})`;
    console.error(`${what} ready in ${server.startupMs} ms, pid ${server.pid}`);
    const before = databaseUrl === null ? null : await databaseCounters(databaseUrl);
    const pgCpuBefore = pg?.cpuSeconds() ?? 0;
    const report = await replay({
      ...DEFAULTS,
      url: server.api,
      webUrl: server.web,
      concurrency: concurrency(DEFAULTS.concurrency),
      rows: number(values.rows, DEFAULTS.rows),
      close: values.close === true,
      reads: number(values.reads, 0),
      // The yardstick serves the API only.
      webReads: values.bare !== true,
      pid: server.pid,
      token: server.token,
    });
    failed = report.errors > 0;
    const postgresCpuSeconds = Math.round(((pg?.cpuSeconds() ?? 0) - pgCpuBefore) * 100) / 100;
    // Stopping the server first makes its connections publish their statistics.
    await server.stop();
    const after = databaseUrl === null ? null : await databaseCounters(databaseUrl);
    const database =
      before === null || after === null
        ? null
        : {
            commitsPerRequest: Math.round(((after.commits - before.commits) / report.requests) * 100) / 100,
            cpuSeconds: postgresCpuSeconds,
            latestWrites: after.latestWrites - before.latestWrites,
          };
    if (values.json) console.log(JSON.stringify({ ...report, startupMs: server.startupMs, database }, null, 2));
    else {
      console.log(formatReport(report));
      if (database !== null) {
        console.log(
          `database: ${database.commitsPerRequest} commits per request; ` +
            `the latest row was written ${database.latestWrites} times for ${report.requests} requests; ` +
            `PostgreSQL CPU ${database.cpuSeconds} s = ${Math.round((database.cpuSeconds / report.requests) * 1e6)} µs per request`,
        );
      }
    }
  } finally {
    await server.stop();
    removeDir(server.dataDir);
    await pg?.stop();
  }
  process.exitCode = failed ? 1 : 0;
}
