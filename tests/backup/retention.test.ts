// Retention (--keep-days): deletes exactly the backups older than N days of
// the database being backed up, payload and manifest, and never the newest
// complete backup, however old. Real backups with controlled clocks.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { expiredBackups, pruneBackups, type StoredBackup } from "../../src/backup/catalog";
import { runBackup } from "../../src/backup/create";
import { requireS3 } from "../../src/backup/targets/s3";
import { backupConfig, uniquePrefix } from "../support/backup";
import { freshDatabase } from "../support/postgres";
import { keysUnder, startS3, type TestS3 } from "../support/s3";
import { startTestServer, type TestServer } from "../support/server";

const DAY = 24 * 60 * 60 * 1000;
const NOW = new Date("2030-01-10T12:00:00.000Z");
const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY);

function stored(database: string, days: number, complete = true): StoredBackup {
  const stamp = daysAgo(days).toISOString().replace(/[-:]/g, "");
  const key = `p/${database}-${stamp}.sql.gz`;
  return {
    key,
    manifestKey: key.replace(".sql.gz", ".manifest.json"),
    database,
    createdAt: daysAgo(days),
    size: 1,
    complete,
  };
}

describe("which backups expire", () => {
  test.each([
    ["all younger than N days: none", [stored("db", 1), stored("db", 2)], 3, []],
    ["older than N days: deleted", [stored("db", 1), stored("db", 4), stored("db", 9)], 3, [4, 9]],
    ["exactly N days old: kept", [stored("db", 0), stored("db", 3)], 3, []],
    ["all older: the newest is kept", [stored("db", 10), stored("db", 20), stored("db", 30)], 3, [20, 30]],
    [
      "an unfinished newest upload does not protect itself instead of the newest complete one",
      [stored("db", 10, false), stored("db", 20)],
      3,
      [10],
    ],
    ["other databases' backups are not ours to delete", [stored("db", 1), stored("other", 50)], 3, []],
    ["--keep-days 0 keeps only the newest", [stored("db", 0), stored("db", 0.5), stored("db", 1)], 0, [0.5, 1]],
  ])("%s", (_, backups, keepDays, expectedDaysAgo) => {
    const expired = expiredBackups(backups, "db", keepDays, NOW);
    expect(expired.map((b) => (NOW.getTime() - b.createdAt.getTime()) / DAY)).toEqual(expectedDaysAgo);
  });
});

describe("against S3", () => {
  let s3: TestS3;
  let app: TestServer;
  let url: string;

  beforeAll(async () => {
    s3 = await startS3();
    app = await startTestServer("postgres");
    url = app.config.databaseUrl as string;
  }, 60_000);
  afterAll(async () => {
    await app.stop();
    await s3.stop();
  });

  const names = (keys: string[], prefix: string) => keys.map((k) => k.slice(prefix.length + 1).replace(/^t_\w+-/, ""));

  test("a backup with --keep-days 3 deletes the older backups of its database, payload and manifest", async () => {
    const prefix = uniquePrefix("keep");
    const config = backupConfig(s3, prefix, url);
    for (const days of [10, 5, 2, 0.5]) await runBackup(config, { now: () => daysAgo(days) });
    // Another database's old backup in the same place, and an upload that never got its manifest.
    await runBackup(backupConfig(s3, prefix, await freshDatabase().then(migrated)), { now: () => daysAgo(40) });
    const database = new URL(url).pathname.slice(1);
    await s3.client.write(`${prefix}/${database}-${stamp(daysAgo(8))}.sql.gz`, "partial");

    const result = await runBackup(config, { keepDays: 3, now: () => NOW });
    expect(names(result.deleted, prefix).sort()).toEqual(
      [stamp(daysAgo(10)), stamp(daysAgo(5)), stamp(daysAgo(8))].map((s) => `${s}.sql.gz`).sort(),
    );

    const left = names(await keysUnder(s3.client, prefix), prefix).filter((k) => k.startsWith("2030"));
    expect(left).toEqual(
      [daysAgo(2), daysAgo(0.5), NOW].flatMap((at) => [`${stamp(at)}.manifest.json`, `${stamp(at)}.sql.gz`]),
    );
    // The other database's backup (its name sorts elsewhere) is still there.
    expect((await keysUnder(s3.client, prefix)).filter((k) => k.includes(stamp(daysAgo(40))))).toHaveLength(2);
  }, 60_000);

  test("the newest backup survives even when every backup is older than N days; re-running deletes nothing more", async () => {
    const prefix = uniquePrefix("newest");
    const config = backupConfig(s3, prefix, url);
    for (const days of [30, 20]) await runBackup(config, { now: () => daysAgo(days) });
    const store = requireS3(config);
    const database = new URL(url).pathname.slice(1);

    expect(names(await pruneBackups(store, database, 7, NOW), prefix)).toEqual([`${stamp(daysAgo(30))}.sql.gz`]);
    expect(await pruneBackups(store, database, 7, NOW)).toEqual([]);
    expect(names(await keysUnder(s3.client, prefix), prefix)).toEqual([
      `${stamp(daysAgo(20))}.manifest.json`,
      `${stamp(daysAgo(20))}.sql.gz`,
    ]);
  }, 60_000);
});

function stamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, "");
}

/** A fresh database with MiniTwit's schema, via a server start (which migrates). */
async function migrated(url: string): Promise<string> {
  const server = await startTestServer("postgres", { DATABASE_URL: url });
  await server.stop();
  return url;
}
