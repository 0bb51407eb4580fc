// `bun run bench startup`: from spawning MiniTwit to its first 200 from
// /readyz. On PostgreSQL: a fresh database (the migrations run) and then
// restarts (schema current, the common case in a deployment). With --pglite:
// the embedded database's first start on an empty DATA_DIR and a second start
// of the same directory, each with the server's peak RSS at ready.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { removeDir, type ServerOptions, startBenchPostgres, startMiniTwit } from "./harness";
import { CLOCK_TICKS_PER_SECOND, cpuTicks, readStatus, summarize } from "./stats";

type StartupOptions = Omit<ServerOptions, "databaseUrl" | "dataDir"> & { readonly durable: boolean };

const RESTARTS = 10;
/** Pairs of embedded starts: each a new, empty DATA_DIR. */
const EMBEDDED_RUNS = 5;

const command = (options: StartupOptions) =>
  options.binary === null ? "bun src/main.ts serve" : `${options.binary} serve`;

export async function runStartup(options: StartupOptions): Promise<void> {
  const pg = await startBenchPostgres(options.durable);
  try {
    const databaseUrl = await pg.createDatabase("minitwit");
    const first = await startMiniTwit({ ...options, databaseUrl });
    await first.stop();
    removeDir(first.dataDir);
    const restarts: number[] = [];
    for (let i = 0; i < RESTARTS; i++) {
      const server = await startMiniTwit({ ...options, databaseUrl });
      restarts.push(server.startupMs);
      await server.stop();
      removeDir(server.dataDir);
    }
    const s = summarize(restarts);
    console.log(`${command(options)} on PostgreSQL, start to ready:`);
    console.log(`  first start (migrations applied): ${first.startupMs} ms`);
    console.log(`  ${RESTARTS} restarts: median ${s.p50} ms, max ${s.max} ms (${restarts.join(", ")})`);
  } finally {
    await pg.stop();
  }
}

interface Start {
  readonly ms: number;
  /** VmHWM at ready, MB: the peak of the start itself. */
  readonly peakRssMb: number;
  /** CPU time (all threads) until ready, ms: unlike start to ready, it hardly depends on the machine's load. */
  readonly cpuMs: number;
}

/** One start on DATA_DIR, stopped once it is ready. */
async function startEmbedded(options: StartupOptions, dataDir: string): Promise<Start> {
  const server = await startMiniTwit({ ...options, databaseUrl: null, dataDir });
  const status = readStatus(server.pid);
  const cpuMs = (cpuTicks(server.pid) * 1000) / CLOCK_TICKS_PER_SECOND;
  await server.stop();
  return { ms: server.startupMs, peakRssMb: Math.round((status?.hwmKb ?? 0) / 1024), cpuMs };
}

export async function runEmbeddedStartup(options: StartupOptions): Promise<void> {
  const firsts: Start[] = [];
  const seconds: Start[] = [];
  for (let i = 0; i < EMBEDDED_RUNS; i++) {
    const dataDir = mkdtempSync(join(tmpdir(), "minitwit-bench-first-start-"));
    try {
      firsts.push(await startEmbedded(options, dataDir));
      seconds.push(await startEmbedded(options, dataDir));
    } finally {
      removeDir(dataDir);
    }
  }
  console.log(`${command(options)} on the embedded PGlite, start to ready, ${EMBEDDED_RUNS} runs:`);
  for (const [what, starts] of [
    ["first start, empty DATA_DIR", firsts],
    ["second start, same DATA_DIR", seconds],
  ] as const) {
    const ms = summarize(starts.map((s) => s.ms));
    const cpu = summarize(starts.map((s) => s.cpuMs));
    const rss = starts.map((s) => s.peakRssMb);
    console.log(
      `  ${what}: median ${ms.p50} ms, max ${ms.max} ms (${starts.map((s) => s.ms).join(", ")}); ` +
        `CPU until ready median ${cpu.p50} ms; peak RSS max ${Math.max(...rss)} MB (${rss.join(", ")})`,
    );
  }
}
