// The backup service's start-up catch-up when the database is not up yet, as
// on a stack's first deploy: the catch-up fails, is tried again, and succeeds
// once PostgreSQL answers, instead of leaving the stack without a backup
// until the next tick.
import { afterAll, beforeAll, expect, test } from "bun:test";
import postgres from "postgres";
import { startBackupSchedule } from "../../src/backup/schedule";
import { loadConfig } from "../../src/config/settings";
import { applyMigrations } from "../../src/database/migrate";
import { openDatabase } from "../../src/database/open";
import { createLogger } from "../../src/observability/log";
import { uniquePrefix } from "../support/backup";
import { type Cluster, startCluster } from "../support/postgres";
import { startS3, type TestS3 } from "../support/s3";

const YEARLY = "0 0 1 1 *";

let cluster: Cluster;
let s3: TestS3;

beforeAll(async () => {
  [cluster, s3] = await Promise.all([startCluster(0, { persistent: true }), startS3()]);
  const admin = postgres(cluster.url("postgres"), { max: 1, onnotice: () => {} });
  await admin`create database schedule_retry`;
  await admin.end();
}, 60_000);
afterAll(async () => {
  await s3.stop();
});

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return Number(line?.split(" ")[1] ?? Number.NaN);
}

async function until(what: () => Promise<boolean>, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await Bun.sleep(100)) if (await what()) return true;
  return what();
}

test("a catch-up that finds the database down tries again and backs up once it answers", async () => {
  const env = {
    ...s3.env(uniquePrefix("schedule-retry")),
    DATABASE_URL: cluster.url("schedule_retry"),
    HOST: "127.0.0.1",
  };
  const config = loadConfig(env, {}, ["core", "database", "backup"]);
  const database = await openDatabase(config, createLogger("silent"));
  await applyMigrations(database.db);
  await database.close();

  await cluster.pg.stop();
  const options = {
    cron: YEARLY,
    metricsPort: 0,
    keepDays: null,
    catchUpRetryMs: [500, 500, 500, 500, 500, 500, 500, 500],
  };
  const schedule = startBackupSchedule(config, options, createLogger("silent"));
  try {
    const port = schedule.metricsPort;
    expect(await until(async () => (await metric(port, "minitwit_backup_failures_total")) >= 2, 30_000)).toBe(true);
    expect(await metric(port, "minitwit_backup_last_success_timestamp_seconds")).toBe(0);
    const back = Date.now() / 1000;
    await cluster.pg.start();
    expect(
      await until(async () => (await metric(port, "minitwit_backup_last_success_timestamp_seconds")) > back, 30_000),
    ).toBe(true);
  } finally {
    await schedule.stop();
    await cluster.pg.stop();
  }
}, 90_000);
