import { requirePostgres, runBackup } from "../backup/backup";
import { requireS3 } from "../backup/s3";
import { checkCron, startBackupSchedule } from "../backup/schedule";
import { UsageError } from "../errors";
import { createLogger } from "../log";
import { type Command, DATABASE_HELP, databaseOptions, stopSignal } from "./command";

export const S3_HELP = `Environment (S3, any S3-compatible store):
  S3_BUCKET                 the bucket (required)
  S3_ENDPOINT               e.g. https://s3.example.net (or AWS_ENDPOINT_URL); default: AWS
  S3_REGION                 (or AWS_REGION)
  S3_ACCESS_KEY_ID(_FILE)   (or AWS_ACCESS_KEY_ID(_FILE)) (required)
  S3_SECRET_ACCESS_KEY(_FILE) (or AWS_SECRET_ACCESS_KEY(_FILE)) (required)
  BACKUP_PREFIX             key prefix in the bucket (default minitwit)
  BACKUP_ENCRYPTION_KEY(_FILE)  32 bytes as 64 hex characters or base64: encrypts
                            backups with AES-256-GCM; restores need the same key`;

export const backup: Command = {
  name: "backup",
  summary: "back the database up to S3 (once, or on a schedule)",
  usage: `Usage: minitwit backup [options]

Takes one consistent snapshot of every table, gzips it (and encrypts it when
BACKUP_ENCRYPTION_KEY is set), streams it to S3 as
<prefix>/<database>-<UTC time>.minitwit.gz and writes a manifest next to it
(schema version, row counts, SHA-256). Needs PostgreSQL (DATABASE_URL).

Options:
  --keep-days N        after a successful backup, delete this database's backups
                       older than N days; the newest backup is always kept
  --schedule CRON      keep running and back up on this schedule, e.g. "0 3 * * *"
                       (a sixth, leading field gives seconds); stops on SIGTERM
  --metrics-port N     with --schedule: serve /metrics on this port (default 9100)
${DATABASE_HELP}

${S3_HELP}`,
  options: {
    ...databaseOptions,
    "keep-days": { type: "string" },
    schedule: { type: "string" },
    "metrics-port": { type: "string" },
  },
  async run({ config, flags, out }) {
    const keepDays = integerFlag(flags["keep-days"], "--keep-days", 0, 36_500);
    const metricsPort = integerFlag(flags["metrics-port"], "--metrics-port", 0, 65_535);
    const cron = flags.schedule;
    if (metricsPort !== null && typeof cron !== "string") throw new UsageError("--metrics-port needs --schedule");
    if (typeof cron === "string") {
      try {
        checkCron(cron);
      } catch (err) {
        throw new UsageError(`--schedule: ${(err as Error).message}`);
      }
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
    const { manifest } = result;
    out(`backed up to ${result.location}`);
    out(
      `  ${manifest.size} bytes, sha256 ${manifest.sha256}, schema ${manifest.schemaVersion}, ` +
        `${manifest.encrypted ? "encrypted" : "not encrypted"}, ${result.durationSeconds.toFixed(1)} s`,
    );
    out(
      `  rows: ${Object.entries(manifest.tables)
        .map(([table, rows]) => `${table} ${rows}`)
        .join(", ")}`,
    );
    for (const key of result.deleted) out(`deleted ${key} (older than ${keepDays} days)`);
  },
};

function integerFlag(value: string | boolean | undefined, name: string, min: number, max: number): number | null {
  if (value === undefined) return null;
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${name} must be an integer from ${min} to ${max}, got "${value}"`);
  }
  return n;
}
