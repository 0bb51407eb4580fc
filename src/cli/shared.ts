// What several commands share: the database options and their help, the
// S3 and encryption settings' help, the formatters of sizes and ages, and
// how a long-running command is asked to stop. A command file exports only
// its command.
import type { OptionSpecs } from "./command";

/** Flags shared by every command that opens the database. */
export const databaseOptions = {
  "database-url": { type: "string" },
  "data-dir": { type: "string" },
  "log-level": { type: "string" },
} as const satisfies OptionSpecs;

export const DATABASE_HELP = `  --database-url URL   Postgres to use (env DATABASE_URL); default: embedded database
  --data-dir DIR       where the embedded database lives (env DATA_DIR, default ./data)
  --log-level LEVEL    fatal, error, warn, info, debug, trace or silent (env LOG_LEVEL)`;

/** Resolves with the name of the first SIGTERM or SIGINT: how a long-running command is asked to stop. */
export function stopSignal(): Promise<string> {
  return new Promise<string>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
}

export const S3_HELP = `Environment (S3, any S3-compatible store):
  S3_BUCKET                 the bucket (required)
  S3_ENDPOINT               e.g. https://s3.example.net (or AWS_ENDPOINT_URL); default: AWS
  S3_REGION                 (or AWS_REGION)
  S3_ACCESS_KEY_ID(_FILE)   (or AWS_ACCESS_KEY_ID(_FILE)) (required)
  S3_SECRET_ACCESS_KEY(_FILE) (or AWS_SECRET_ACCESS_KEY(_FILE)) (required)
  BACKUP_PREFIX             key prefix in the bucket (default minitwit)

Environment (encryption, with age: https://age-encryption.org):
  BACKUP_AGE_RECIPIENTS(_FILE)  age public keys (age1…, from age-keygen), separated
                            by commas, spaces or newlines: backups are encrypted to
                            them, and any one of their identities decrypts
  BACKUP_AGE_IDENTITY_FILE  restore: a file holding the age identity
                            (AGE-SECRET-KEY-1…), as age-keygen writes it
  BACKUP_ENCRYPTION_KEY(_FILE)  restore only: the key of backups made before age
                            (MTWENC1); new backups are never encrypted with it`;

export function humanSize(bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function humanAge(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}
