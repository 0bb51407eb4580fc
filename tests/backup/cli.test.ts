// The backup commands as an operator runs them: `minitwit backup`,
// `backups` and `restore` in a child process with only the environment,
// their exit codes and messages for bad invocations, and `backup --schedule`
// as a service that backs up, reports on /metrics and stops on SIGTERM.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type AgeKey, ageEnv, ageKey, uniquePrefix } from "../support/backup";
import { MAIN, runMinitwit } from "../support/cli";
import { freePort, freshDatabase } from "../support/postgres";
import { keysUnder, startS3, type TestS3 } from "../support/s3";
import { apiClient, startTestServer, type TestServer } from "../support/server";

let s3: TestS3;
let app: TestServer;
let url: string;
let key: AgeKey;

beforeAll(async () => {
  key = await ageKey();
  s3 = await startS3();
  app = await startTestServer("postgres");
  url = app.config.databaseUrl as string;
  const api = apiClient(app.api);
  await api.post("/register", { username: "alice", email: "a@x.org", pwd: "pw" });
  await api.post("/msgs/alice", { content: "hello" });
}, 60_000);

afterAll(async () => {
  await app.stop();
  await s3.stop();
});

/** Runs `minitwit ARGS` with exactly this environment (plus PATH and HOME), quietly. */
const minitwit = (args: string[], env: Record<string, string>) => runMinitwit(args, { LOG_LEVEL: "silent", ...env });

describe("bad invocations fail clearly", () => {
  const prefix = uniquePrefix("cli-errors");
  test.each([
    [
      "restore --latest --key x",
      ["restore", "--latest", "--key", "x"],
      "s3+db",
      2,
      /one of --latest, --key or --file, not several[\s\S]*Try: minitwit restore --help/,
    ],
    [
      "restore without a choice",
      ["restore"],
      "s3+db",
      2,
      /--latest, --key KEY or --file PATH[\s\S]*Try: minitwit restore --help/,
    ],
    ["restore --file of a missing file", ["restore", "--file", "/nonexistent/b.sql.gz"], "db", 1, /no file/],
    ["backup --output with --keep-days", ["backup", "--output", "x", "--keep-days", "1"], "db", 2, /--output/],
    [
      "restore of an unknown key",
      ["restore", "--key", "db-20200101T000000.000Z.sql.gz"],
      "s3+db",
      1,
      /there is no backup s3:\/\/.*db-20200101T000000\.000Z\.sql\.gz/,
    ],
    [
      "restore of something that is not a backup key",
      ["restore", "--key", "notes.txt"],
      "s3+db",
      1,
      /"notes.txt" is not a backup key/,
    ],
    [
      "restore --latest with nothing stored",
      ["restore", "--latest"],
      "s3+db",
      1,
      /there is no complete backup in s3:\/\//,
    ],
    [
      "backup without S3 settings",
      ["backup"],
      "db",
      1,
      /configuration: backups need S3 settings: set S3_BUCKET, S3_ACCESS_KEY_ID/,
    ],
    ["backups without S3 settings", ["backups"], "none", 1, /set S3_BUCKET/],
    ["backup of the embedded database", ["backup"], "s3", 1, /backup needs PostgreSQL: set DATABASE_URL/],
    ["backup --keep-days -1", ["backup", "--keep-days", "-1"], "s3+db", 2, /--keep-days/],
    ["backup --keep-days soon", ["backup", "--keep-days", "soon"], "s3+db", 2, /--keep-days must be an integer/],
    [
      "backup --schedule 'every day'",
      ["backup", "--schedule", "every day"],
      "s3+db",
      2,
      /--schedule: "every day" is not a cron expression/,
    ],
    [
      "backup --metrics-port without --schedule",
      ["backup", "--metrics-port", "9100"],
      "s3+db",
      2,
      /--metrics-port needs --schedule/,
    ],
    [
      "backup with the database unreachable",
      ["backup"],
      "s3+unreachable",
      1,
      /cannot reach the database postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/db/,
    ],
    ["a malformed encryption key", ["backup"], "s3+db+badkey", 1, /BACKUP_ENCRYPTION_KEY must be 32 bytes/],
    ["a malformed age identity", ["restore", "--latest"], "s3+db+badidentity", 1, /BACKUP_AGE_IDENTITY must hold/],
    [
      "the legacy key alone, which no longer encrypts",
      ["backup"],
      "s3+db+legacykey",
      1,
      /BACKUP_ENCRYPTION_KEY now only decrypts[\s\S]*set BACKUP_AGE_RECIPIENTS/,
    ],
  ])(
    "%s",
    async (_, args, setup, code, message) => {
      const env: Record<string, string> = {
        ...(setup.includes("s3") ? s3.env(prefix) : {}),
        ...(setup.includes("db") ? { DATABASE_URL: url } : {}),
        ...(setup.includes("unreachable")
          ? { DATABASE_URL: "postgres://postgres:secret-but-short@127.0.0.1:1/db" }
          : {}),
        ...(setup.includes("badkey") ? { BACKUP_ENCRYPTION_KEY: "secret-but-short" } : {}),
        ...(setup.includes("badidentity") ? { BACKUP_AGE_IDENTITY: "AGE-SECRET-KEY-secret-but-short" } : {}),
        ...(setup.includes("legacykey") ? { BACKUP_ENCRYPTION_KEY: "c3".repeat(32) } : {}),
      };
      const result = await minitwit(args, env);
      expect(result.stderr).toMatch(message);
      expect(result.code).toBe(code);
      expect(result.stderr).not.toContain("secret-but-short");
    },
    30_000,
  );
});

test("backup, backups and restore from the command line", async () => {
  const prefix = uniquePrefix("cli");
  const env = { ...s3.env(prefix), DATABASE_URL: url, ...ageEnv(key) };
  const made = await minitwit(["backup", "--keep-days", "7"], env);
  expect(made.stderr).toBe("");
  expect(made.code).toBe(0);
  expect(made.stdout).toMatch(/^backed up to s3:\/\/\S+\.sql\.gz\.age\n.*encrypted with age/);
  await minitwit(["backup"], env);

  const listed = await minitwit(["backups", "--json"], env);
  expect(listed.code).toBe(0);
  const backups = JSON.parse(listed.stdout) as {
    key: string;
    createdAt: string;
    complete: boolean;
    encrypted: boolean;
  }[];
  expect(backups).toHaveLength(2);
  expect(backups.map((b) => b.createdAt)).toEqual(
    backups
      .map((b) => b.createdAt)
      .sort()
      .reverse(),
  );
  expect(backups.every((b) => b.complete && b.encrypted)).toBe(true);
  const table = await minitwit(["backups"], env);
  expect(table.stdout).toContain("2 backups in s3://");
  expect(table.stdout).toMatch(/NAME\s+SIZE\s+AGE\s+SCHEMA\s+ENCRYPTED/);

  const oldest = (backups[1] as { key: string }).key.slice(prefix.length + 1);
  const target = await freshDatabase();
  const restored = await minitwit(["restore", "--key", oldest], { ...env, DATABASE_URL: target });
  expect(restored.stderr).toBe("");
  expect(restored.stdout).toContain(`restored s3://`);
  expect(restored.code).toBe(0);
  const again = await minitwit(["restore", "--latest"], { ...env, DATABASE_URL: target });
  expect(again.code).toBe(1);
  expect(again.stderr).toContain("already holds data");
  expect((await minitwit(["restore", "--latest", "--force"], { ...env, DATABASE_URL: target })).code).toBe(0);
}, 60_000);

// A schedule that will not fire during the tests but once a year: only the
// start-up can back up or set the gauges.
const YEARLY = "0 3 1 1 *";

test("backup --schedule starts from the newest stored backup, so a restart does not look like missing backups, and takes none when it is newer than the last tick", async () => {
  const prefix = uniquePrefix("schedule-restart");
  const env = { ...s3.env(prefix), DATABASE_URL: url };
  expect((await minitwit(["backup"], env)).code).toBe(0);
  const [manifestKey] = await manifestsUnder(prefix);
  const stored = JSON.parse(await s3.client.file(manifestKey as string).text()) as { createdAt: string; size: number };
  const schedule = await startSchedule(YEARLY, env);
  const metrics = await scrapeOnceBackedUp(schedule.port, 100);
  expect(metric(metrics, "minitwit_backup_last_success_timestamp_seconds")).toBe(
    new Date(stored.createdAt).getTime() / 1000,
  );
  expect(metric(metrics, "minitwit_backup_last_size_bytes")).toBe(stored.size);
  // The stop waits for a backup in progress, so the store is final once the process is gone.
  const logs = await stopSchedule(schedule.proc);
  expect(logs.some((l) => l.msg.startsWith("no backup since the last scheduled tick"))).toBe(false);
  expect(await manifestsUnder(prefix)).toEqual([manifestKey as string]);
}, 60_000);

test.each([
  ["an empty store", false],
  ["a store whose newest backup is older than the last tick", true],
])(
  "backup --schedule started on %s takes a backup at once, not at the next tick",
  async (_, old) => {
    const prefix = uniquePrefix("schedule-catch-up");
    const env = { ...s3.env(prefix), DATABASE_URL: url };
    if (old) await backDate(prefix, env);
    const started = Date.now() / 1000;
    const schedule = await startSchedule(YEARLY, env);
    const metrics = await scrapeOnceBackedUp(schedule.port, 200, started);
    expect(metric(metrics, "minitwit_backup_last_success_timestamp_seconds")).toBeGreaterThan(started);
    expect(metric(metrics, "minitwit_backup_failures_total")).toBe(0);
    const logs = await stopSchedule(schedule.proc);
    const catchUp = logs.find((l) => l.msg === "no backup since the last scheduled tick: taking one now");
    expect(catchUp?.reason).toMatch(old ? /older than the last tick/ : /holds no complete backup/);
    expect(logs.filter((l) => l.msg === "backup finished")).toHaveLength(1);
    expect(await manifestsUnder(prefix)).toHaveLength(old ? 2 : 1);
  },
  60_000,
);

test("backup --schedule backs up on its schedule, serves /metrics and stops cleanly on SIGTERM", async () => {
  const prefix = uniquePrefix("schedule");
  const schedule = await startSchedule("* * * * * *", { ...s3.env(prefix), DATABASE_URL: url });
  // The first backup is the start-up's catch-up (the store is empty); the one after it, a tick's.
  const first = metric(await scrapeOnceBackedUp(schedule.port, 200), "minitwit_backup_last_success_timestamp_seconds");
  const metrics = await scrapeOnceBackedUp(schedule.port, 200, first);
  expect(metric(metrics, "minitwit_backup_last_success_timestamp_seconds")).toBeGreaterThan(Date.now() / 1000 - 60);
  expect(metric(metrics, "minitwit_backup_last_size_bytes")).toBeGreaterThan(0);
  expect(metric(metrics, "minitwit_backup_failures_total")).toBe(0);
  expect(metric(metrics, "minitwit_backup_duration_seconds")).toBeGreaterThan(0);
  expect((await manifestsUnder(prefix)).length).toBeGreaterThan(1);

  const logs = await stopSchedule(schedule.proc);
  expect(logs.some((l) => l.msg === "backup finished" && l.key?.startsWith(`${prefix}/`))).toBe(true);
  expect(logs.at(-1)?.msg).toBe("backup schedule stopped");
}, 60_000);

/** `minitwit backup --schedule CRON` in the background, logging at info level, on a free metrics port. */
async function startSchedule(cron: string, env: Record<string, string>) {
  const port = await freePort();
  const proc = Bun.spawn(["bun", MAIN, "backup", "--schedule", cron, "--metrics-port", String(port)], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env, LOG_LEVEL: "info", HOST: "127.0.0.1" },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { port, proc };
}

/** SIGTERM, a clean exit, and the log lines the schedule wrote. */
async function stopSchedule(proc: Bun.Subprocess<"ignore", "pipe", "pipe">) {
  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
  return (await new Response(proc.stdout).text())
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as { msg: string; key?: string; reason?: string });
}

/** One backup stored under a name from 2020, as if the service had been down over many ticks. */
async function backDate(prefix: string, env: Record<string, string>) {
  expect((await minitwit(["backup"], env)).code).toBe(0);
  for (const key of await keysUnder(s3.client, prefix)) {
    const old = key.replace(/\d{8}T\d{6}\.\d{3}Z/, "20200101T000000.000Z");
    await s3.client.write(old, await s3.client.file(key).arrayBuffer());
    await s3.client.delete(key);
  }
}

const manifestsUnder = async (prefix: string) =>
  (await keysUnder(s3.client, prefix)).filter((k) => k.endsWith(".manifest.json"));

/** A metric's value in an exposition text; NaN when it is absent. */
function metric(text: string, name: string): number {
  return Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);
}

/**
 * The schedule's /metrics once it reports a last success after `after` (Unix
 * seconds), or its last answer after `tries` scrapes 100 ms apart.
 */
async function scrapeOnceBackedUp(port: number, tries: number, after = 0): Promise<string> {
  let metrics = "";
  for (let i = 0; i < tries && !(metric(metrics, "minitwit_backup_last_success_timestamp_seconds") > after); i++) {
    await Bun.sleep(100);
    metrics = await fetch(`http://127.0.0.1:${port}/metrics`).then(
      (r) => r.text(),
      () => "",
    );
  }
  return metrics;
}
