import type { BackupResult } from "../backup/create";
import { UsageError } from "../errors";
import { defineCommand } from "./command";
import { DATABASE_HELP, databaseOptions, S3_HELP, stopSignal } from "./shared";

export const backup = defineCommand({
  name: "backup",
  summary: "back the database up to S3 (once, or on a schedule)",
  settings: ["core", "database", "backup"],
  usage: `Usage: minitwit backup [options]

Takes one consistent snapshot of every table as a plain SQL script that psql
loads into an empty database (the schema, every table's rows, the sequences),
gzips it (and encrypts it with age when BACKUP_AGE_RECIPIENTS is set), streams
it to S3 as <prefix>/<database>-<UTC time>.sql.gz (.sql.gz.age) and writes a
manifest next to it (schema version, row counts, SHA-256). Needs PostgreSQL
(DATABASE_URL).

Options:
  --output PATH        write the backup to a local file instead of S3, with its
                       manifest next to it (NAME.manifest.json); "-" writes it to
                       stdout, without a manifest
  --keep-days N        after a successful backup, delete this database's backups
                       older than N days; the newest backup is always kept
  --schedule CRON      keep running and back up on this schedule, e.g. "0 3 * * *"
                       (a sixth, leading field gives seconds); stops on SIGTERM
  --metrics-port N     with --schedule: serve /metrics on this port (default 9100)
${DATABASE_HELP}

${S3_HELP}`,
  options: {
    ...databaseOptions,
    output: { type: "string" },
    "keep-days": { type: "integer", min: 0, max: 36_500 },
    schedule: { type: "string" },
    "metrics-port": { type: "integer", min: 0, max: 65_535 },
  },
  async run({ config, options, out }) {
    const [
      { requirePostgres, runBackup, writeBackupFile },
      { requireS3 },
      { checkCron, startBackupSchedule },
      { createLogger },
    ] = await Promise.all([
      import("../backup/create"),
      import("../backup/targets/s3"),
      import("../backup/schedule"),
      import("../observability/log"),
    ]);
    const keepDays = options["keep-days"] ?? null;
    const metricsPort = options["metrics-port"] ?? null;
    const cron = options.schedule;
    if (metricsPort !== null && typeof cron !== "string") throw new UsageError("--metrics-port needs --schedule");
    if (typeof cron === "string") {
      try {
        checkCron(cron);
      } catch (err) {
        throw new UsageError(`--schedule: ${(err as Error).message}`, "backup", { cause: err });
      }
    }
    const output = options.output ?? null;
    if (output !== null && (cron !== undefined || keepDays !== null)) {
      throw new UsageError("--output writes one backup: it takes neither --schedule nor --keep-days");
    }
    if (output === "") throw new UsageError("--output needs a path, or - for stdout");
    if (output !== null) {
      const result = await writeBackupFile(config, output);
      // With "-" the backup itself is on stdout: the report goes to stderr.
      report(result, output === "-" ? (line) => process.stderr.write(`${line}\n`) : out);
      return;
    }
    // Refuse a missing database or bucket now, not at the first scheduled run.
    requirePostgres(config, "backup");
    requireS3(config);

    if (typeof cron === "string") {
      const log = createLogger(config.logLevel);
      const schedule = startBackupSchedule(config, { cron, keepDays, metricsPort: metricsPort ?? 9100 }, log);
      const signal = await stopSignal();
      log.info({ signal }, "stopping the backup schedule");
      await schedule.stop();
      return;
    }

    const result = await runBackup(config, { keepDays });
    report(result, out);
    for (const key of result.deleted) out(`deleted ${key} (older than ${keepDays} days)`);
  },
});

function report(result: BackupResult, out: (line: string) => void): void {
  const { manifest } = result;
  out(`backed up to ${result.location}`);
  out(
    `  ${manifest.size} bytes, sha256 ${manifest.sha256}, schema ${manifest.schemaVersion}, ` +
      `${manifest.encrypted ? "encrypted with age" : "not encrypted"}, ${result.durationSeconds.toFixed(1)} s`,
  );
  out(
    `  rows: ${Object.entries(manifest.tables)
      .map(([table, rows]) => `${table} ${rows}`)
      .join(", ")}`,
  );
}
