// `bun run bench --compare`: the scenario against MiniTwit and against the
// yardstick (bench/bare-server.ts), in pairs, in one sitting, on one
// PostgreSQL: every run gets a database of its own, created fresh and
// dropped after it, with a checkpoint before it so no run writes out the
// previous one's pages. The pairs alternate which side goes first.

import {
  type Figures,
  formatMedians,
  formatPair,
  medianRatios,
  orderOf,
  type Pair,
  ratios,
  type Side,
  totalErrors,
} from "./compare-report";
import {
  type BenchPostgres,
  type BenchServer,
  removeDir,
  type ServerOptions,
  startBareServer,
  startBenchPostgres,
  startMiniTwit,
} from "./harness";
import { DEFAULTS, type ReplayReport, replay } from "./replay";

export interface CompareOptions {
  readonly pairs: number;
  readonly concurrency: number;
  readonly rows: number;
  readonly close: boolean;
  /** Reads per write, on the API only (the yardstick serves no web pages). */
  readonly reads: number;
  readonly json: boolean;
  readonly durable: boolean;
  /** How MiniTwit runs; the yardstick gets the same pool size. */
  readonly server: Omit<ServerOptions, "databaseUrl">;
  /** Adds session settings to the database URL, for both sides alike. */
  readonly withParams: (url: string) => string;
  /** The yardstick with MiniTwit's per-request duties (bench/bare-duties.ts) in MiniTwit's place. */
  readonly duties?: boolean;
}

/** What one run of one side yields: figures for the ratios, its error count, and its full report. */
export interface SideRun {
  readonly figures: Figures;
  readonly errors: number;
  readonly errorSamples: readonly string[];
  readonly report: unknown;
}

/** The least number of pairs a median ratio is taken over. */
export const MIN_PAIRS = 3;

/** Replays the scenario in `options.pairs` pairs; true when neither side had an error. */
export async function runCompare(options: CompareOptions): Promise<boolean> {
  if (options.duties && !options.json)
    console.log("MiniTwit's side: the yardstick with MiniTwit's duties (--duties)\n");
  const pg = await startBenchPostgres(options.durable);
  try {
    return await comparePairs(options.pairs, options.json, (side, name) => scenarioRun(side, name, pg, options));
  } finally {
    await pg.stop();
  }
}

/**
 * Runs `count` pairs of `measure` (the side, and a name unique to the run),
 * prints each pair as it completes and then the median ratios (or all of it
 * as JSON at the end); true when neither side had an error.
 */
export async function comparePairs(
  count: number,
  json: boolean,
  measure: (side: Side, name: string) => Promise<SideRun>,
): Promise<boolean> {
  const pairs: Pair[] = [];
  const runs: Record<Side, SideRun>[] = [];
  for (let i = 0; i < count; i++) {
    const order = orderOf(i);
    const run: Partial<Record<Side, SideRun>> = {};
    for (const side of order) run[side] = await measure(side, `pair${i + 1}_${side.toLowerCase()}`);
    const done = run as Record<Side, SideRun>;
    const pair: Pair = {
      order,
      minitwit: done.MiniTwit.figures,
      yardstick: done.yardstick.figures,
      errors: { MiniTwit: done.MiniTwit.errors, yardstick: done.yardstick.errors },
    };
    pairs.push(pair);
    runs.push(done);
    if (!json) {
      const samples = order.flatMap((side) => done[side].errorSamples.map((e) => `  ${side}: ${e}`));
      console.log(`${[formatPair(i, pair), ...samples].join("\n")}\n`);
    }
  }
  const errors = totalErrors(pairs);
  if (json) {
    const each = pairs.map((pair, i) => ({ ...pair, ratios: ratios(pair), reports: runs[i] }));
    console.log(JSON.stringify({ pairs: each, medianRatios: medianRatios(pairs), errors }, null, 2));
  } else console.log(formatMedians(pairs));
  return errors.MiniTwit === 0 && errors.yardstick === 0;
}

async function scenarioRun(side: Side, name: string, pg: BenchPostgres, options: CompareOptions): Promise<SideRun> {
  const url = options.withParams(await pg.createDatabase(name));
  await pg.run("checkpoint");
  let server: BenchServer | null = null;
  try {
    const { poolMax, logLevel } = options.server;
    if (side === "yardstick") server = await startBareServer(url, { poolMax });
    else if (options.duties) server = await startBareServer(url, { poolMax, duties: { logLevel } });
    else server = await startMiniTwit({ ...options.server, databaseUrl: url });
    const postgresBefore = pg.cpuSeconds();
    const report = await replay({
      ...DEFAULTS,
      url: server.api,
      webUrl: server.web,
      concurrency: options.concurrency,
      rows: options.rows,
      close: options.close,
      reads: options.reads,
      webReads: false,
      pid: server.pid,
      token: server.token,
    });
    const figures = scenarioFigures(report, pg.cpuSeconds() - postgresBefore);
    return { figures, errors: report.errors, errorSamples: report.errorSamples, report };
  } finally {
    await server?.stop();
    if (server !== null) removeDir(server.dataDir);
    await pg.run(`drop database ${name}`);
  }
}

/** Requests/s, p99 per command (and of all requests), CPU per request of the server and of PostgreSQL, peak RSS. */
function scenarioFigures(report: ReplayReport, postgresSeconds: number): Figures {
  const perRequest = (seconds: number) => Math.round((seconds / report.requests) * 1e6);
  const p99 = Object.entries(report.latency).map(([label, s]) => [`p99 ${label} ms`, s.p99] as const);
  return {
    "req/s": report.requestsPerSecond,
    ...Object.fromEntries(p99),
    "server CPU µs/request": perRequest(report.server?.cpuSeconds ?? 0),
    "PostgreSQL CPU µs/request": perRequest(postgresSeconds),
    "peak RSS MB": report.server?.peakRssMb ?? 0,
  };
}
