// How much memory `minitwit backup` and `minitwit restore` need. Fills a
// database with 200,000 messages (about 2 KB of barely compressible text
// each, so the dump is several hundred megabytes and still more than 300 MB
// after gzip), runs the real backup in a child process against an
// in-process S3, then the real restore of it into an empty database, and
// reads each child's peak resident set size (VmHWM in /proc/<pid>/status)
// until it exits. A command that held the dump, or its compressed form, in
// memory would peak above the size of that dump; a streaming one stays flat.
//
//   bun bench/backup-memory.ts [--messages N] [--text-bytes N] [--encrypted]
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "../db/schema";
import { applyMigrations } from "../src/database/migrate";
import type { Db } from "../src/database/open";
import { ageEnv, ageKey } from "../tests/support/backup";
import { startCluster } from "../tests/support/postgres";
import { startS3 } from "../tests/support/s3";

const MAIN = join(import.meta.dir, "..", "src", "main.ts");
const MB = 1024 * 1024;

export interface MemoryOptions {
  readonly messages: number;
  /** Characters of text per message (base64 of SHA-256 digests: gzip saves only about a quarter). */
  readonly textBytes: number;
  /** Encrypt the backup with age (a fresh key pair), to include the encryption in the measurement. */
  readonly encrypted: boolean;
}

export interface MemoryResult {
  readonly messages: number;
  /** Bytes of COPY text the backup streamed (the uncompressed dump). */
  readonly dumpBytes: number;
  /** Bytes stored in S3 (gzip). */
  readonly payloadBytes: number;
  readonly backup: ChildRun;
  /** `minitwit restore --latest` of that backup into an empty database. */
  readonly restore: ChildRun;
}

export interface ChildRun {
  readonly peakRssBytes: number;
  readonly seconds: number;
  readonly stdout: string;
}

export async function measureBackupMemory(options: MemoryOptions): Promise<MemoryResult> {
  const cluster = await startCluster();
  const s3 = await startS3();
  try {
    const url = cluster.url("postgres");
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    await applyMigrations(drizzle(sql, { schema }) as unknown as Db);
    const digests = Math.ceil(options.textBytes / 44);
    await sql`insert into users (username, email, pw_hash)
              select 'user' || i, 'user' || i || '@example.org', 'x' from generate_series(1, 1000) i`;
    // In batches, so no single statement holds the whole table's WAL.
    for (let from = 1; from <= options.messages; from += 20_000) {
      const to = Math.min(options.messages, from + 19_999);
      await sql`insert into messages (author_id, text, pub_date)
        select 1 + i % 1000,
               (select string_agg(encode(sha256((i * 1000 + j)::text::bytea), 'base64'), '')
                from generate_series(1, ${digests}) j),
               1700000000 + i
        from generate_series(${from}::int, ${to}::int) i`;
    }
    const [{ dump }] = (await sql`select sum(octet_length(text) + 40)::bigint as dump from messages`) as unknown as [
      { dump: string },
    ];
    await sql`create database restored`;
    await sql.end();

    const env = {
      ...s3.env(`memory-${Date.now()}`),
      ...(options.encrypted ? ageEnv(await ageKey()) : {}),
    };
    const backup = await measureChild(["backup"], { ...env, DATABASE_URL: url });
    const restore = await measureChild(["restore", "--latest"], { ...env, DATABASE_URL: cluster.url("restored") });
    return {
      messages: options.messages,
      dumpBytes: Number(dump),
      payloadBytes: Number(/^\s+(\d+) bytes/m.exec(backup.stdout)?.[1]),
      backup,
      restore,
    };
  } finally {
    await s3.stop();
    // Only this cluster: a test run may still need the shared one.
    await cluster.pg.stop();
    rmSync(cluster.dir, { recursive: true, force: true });
  }
}

/** Runs `minitwit ARGS` and samples its peak RSS until it exits. */
async function measureChild(args: string[], env: Record<string, string>): Promise<ChildRun> {
  const started = performance.now();
  const child = Bun.spawn(["bun", MAIN, ...args], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LOG_LEVEL: "silent", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  let peak = 0;
  // VmHWM only grows, so the last sample before the exit is the peak (give or take the last 20 ms).
  const sampler = setInterval(() => {
    peak = Math.max(peak, highWaterMark(child.pid));
  }, 20);
  const [code, stdout, stderr] = await Promise.all([
    child.exited,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  clearInterval(sampler);
  if (code !== 0) throw new Error(`minitwit ${args.join(" ")} exited with ${code}: ${stderr}${stdout}`);
  return { peakRssBytes: peak, seconds: (performance.now() - started) / 1000, stdout };
}

/** VmHWM, the peak resident set size of a live process, in bytes; 0 once it has exited. */
function highWaterMark(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
    return kb === undefined ? 0 : Number(kb) * 1024;
  } catch {
    return 0;
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      messages: { type: "string", default: "200000" },
      "text-bytes": { type: "string", default: "2200" },
      encrypted: { type: "boolean", default: false },
    },
  });
  const result = await measureBackupMemory({
    messages: Number(values.messages),
    textBytes: Number(values["text-bytes"]),
    encrypted: values.encrypted === true,
  });
  const mb = (bytes: number) => `${(bytes / MB).toFixed(0)} MB`;
  const what = values.encrypted ? "encrypted " : "";
  console.log(
    `${result.messages} messages: dump ${mb(result.dumpBytes)}, stored ${mb(result.payloadBytes)} (gzip); ` +
      `${what}backup peak RSS ${mb(result.backup.peakRssBytes)} in ${result.backup.seconds.toFixed(1)} s, ` +
      `restore peak RSS ${mb(result.restore.peakRssBytes)} in ${result.restore.seconds.toFixed(1)} s`,
  );
}
