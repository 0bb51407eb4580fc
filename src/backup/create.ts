// `minitwit backup`: one consistent snapshot of every table of the schema,
// streamed from PostgreSQL to S3 (or a file, or stdout) without ever holding
// the dump in memory:
//
//   COPY ... TO STDOUT (one table after another, one transaction)
//     -> SQL script (sql-script.ts) -> gzip -> [age] -> SHA-256 and size
//     -> S3 multipart upload | file | stdout
//
// All tables are read in one REPEATABLE READ, READ ONLY, DEFERRABLE
// transaction, so the backup is one point in time: writes that commit while
// it runs are either wholly in it or wholly absent, and no message can
// appear without its author. The manifest is written only after the payload
// was stored, and retention runs only after that.

import { basename, dirname } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { embeddedMigrations } from "../../db/migrations";
import { databaseName } from "../config/postgres-url";
import type { Config } from "../config/settings";
import { UsageError } from "../errors";
import { VERSION } from "../version";
import { AGE_SCHEME, encryptWithAge } from "./age";
import { backupName, keyDatabaseName, type Manifest, manifestKeyFor, pruneBackups } from "./catalog";
import { Checksum, type Sum } from "./checksum";
import { openSnapshot, readSchemaVersion, sequenceColumns, tableSources } from "./snapshot";
import { encodeSqlScript, SCRIPT_FORMAT_VERSION } from "./sql-script";
import type { BackupTarget } from "./target";
import { fileTarget, stdoutTarget } from "./targets/file";
import { requireS3 } from "./targets/s3";

export interface BackupOptions {
  /** Delete backups of this database older than this many days once the upload succeeded. */
  readonly keepDays?: number | null;
  /** The clock; tests pass a fixed one to make keys and retention predictable. */
  readonly now?: () => Date;
}

export interface BackupResult {
  /** The S3 key, or the file written ("-" for stdout). */
  readonly key: string;
  /** Where the payload went: `s3://bucket/key`, the file's path, or "stdout". */
  readonly location: string;
  readonly manifest: Manifest;
  readonly durationSeconds: number;
  /** Keys deleted by retention. */
  readonly deleted: string[];
}

/** A backup to S3: the payload, then its manifest, then retention. */
export async function runBackup(config: Config, options: BackupOptions = {}): Promise<BackupResult> {
  requirePostgres(config, "backup to S3");
  const target = requireS3(config);
  return backUp(config, { target, name: (n) => `${target.prefix}/${n}`, manifest: true }, options);
}

/**
 * A backup to a local file (with its manifest next to it, named as in S3) or,
 * for "-", to stdout (no manifest: the script's own trailer and gzip's, or
 * age's, checks still cover it).
 */
export async function writeBackupFile(
  config: Config,
  output: string,
  options: Pick<BackupOptions, "now"> = {},
): Promise<BackupResult> {
  if (output !== "-") checkOutputName(output, encryptsWithAge(config));
  const to: Destination =
    output === "-"
      ? { target: stdoutTarget(), name: (n) => n, manifest: false }
      : { target: fileTarget(dirname(output)), name: () => basename(output), manifest: true };
  const result = await backUp(config, to, options);
  return { ...result, key: output, location: output === "-" ? "stdout" : output };
}

/** A file is named for what it holds: `.sql.gz.age` when encrypted, `.sql.gz` or any other name when not. */
function checkOutputName(output: string, encrypted: boolean): void {
  if (encrypted && !output.endsWith(".age")) {
    throw new UsageError(
      `--output ${output}: the backup is encrypted with age (BACKUP_AGE_RECIPIENTS is set); name the file ` +
        `${output.replace(/(\.sql\.gz)?$/, ".sql.gz.age")} so that no one takes it for a plain gzipped script`,
      "backup",
    );
  }
  if (!encrypted && output.endsWith(".age")) {
    throw new UsageError(`--output ${output}: the backup is not encrypted (BACKUP_AGE_RECIPIENTS is unset)`, "backup");
  }
}

interface Destination {
  readonly target: BackupTarget;
  /** The payload's key, from the name a backup taken now gets. */
  readonly name: (backupName: string) => string;
  /** Whether the target keeps a manifest next to the payload. */
  readonly manifest: boolean;
}

/** The one backup pipeline: snapshot, payload, manifest, then retention. */
async function backUp(config: Config, to: Destination, options: BackupOptions): Promise<BackupResult> {
  const now = options.now ?? (() => new Date());
  const started = performance.now();
  const createdAt = now();
  const database = databaseOf(config);
  const encrypted = encryptsWithAge(config);
  const key = to.name(backupName(database, createdAt, encrypted));
  const type = encrypted ? "application/octet-stream" : "application/gzip";
  const manifest = await takeSnapshot(config, { key, database, createdAt }, async (payload) => {
    const checksum = new Checksum();
    await to.target.put(key, checksum.tap(payload), type);
    return checksum.sum();
  });
  if (to.manifest) {
    await to.target.writeText(manifestKeyFor(key), `${JSON.stringify(manifest, null, 2)}\n`, "application/json");
  }
  const deleted = options.keepDays == null ? [] : await pruneBackups(to.target, database, options.keepDays, now());
  return { key, location: to.target.where(key), manifest, durationSeconds: seconds(started), deleted };
}

/** Stores a payload and returns the checksum of exactly the bytes stored. */
type Sink = (payload: AsyncIterable<Uint8Array>) => Promise<Sum>;

interface Naming {
  readonly key: string;
  readonly database: string;
  readonly createdAt: Date;
}

/** Reads the snapshot, streams it into `sink`, and returns the manifest describing what was stored. */
async function takeSnapshot(config: Config, naming: Naming, sink: Sink): Promise<Manifest> {
  const recipients = recipientsFor(config);
  const { conn, finish } = await openSnapshot(config);
  let failed = true;
  try {
    const schemaVersion = await readSchemaVersion(conn);
    const tables = await tableSources(conn);
    const script = {
      schemaVersion,
      createdAt: naming.createdAt,
      migrations: migrationsUpTo(schemaVersion),
      tables,
      sequences: await sequenceColumns(conn, tables),
    };
    const rows = new Map<string, number>();
    const stored = await streamPayload(
      encodeSqlScript(script, (table, count) => rows.set(table, count)),
      recipients,
      sink,
    );
    failed = false;
    return {
      format: "minitwit-backup",
      formatVersion: SCRIPT_FORMAT_VERSION,
      key: naming.key,
      database: naming.database,
      schemaVersion,
      tables: Object.fromEntries(tables.map((t) => [t.table, rows.get(t.table) ?? 0])),
      ...stored,
      createdAt: naming.createdAt.toISOString(),
      compression: "gzip",
      encrypted: recipients.length > 0,
      encryption: recipients.length > 0 ? AGE_SCHEME : null,
      ...(recipients.length > 0 ? { ageRecipients: recipients } : {}),
    };
  } finally {
    await finish(failed);
  }
}

/**
 * Streams the script through gzip (and age) into `sink`. A failure on either
 * side stops both, and the error reported is the cause, not the broken
 * stream it left on the other side.
 */
async function streamPayload(
  script: AsyncIterable<Uint8Array>,
  recipients: readonly string[],
  sink: Sink,
): Promise<Sum> {
  let dumpError: unknown = null;
  async function* dump(): AsyncGenerator<Uint8Array> {
    try {
      yield* script;
    } catch (err) {
      dumpError = err;
      throw err;
    }
  }
  const gzip = createGzip();
  const dumped = pipeline(Readable.from(dump()), gzip).catch(() => {});
  const payload = recipients.length === 0 ? gzip : encryptWithAge(gzip, recipients);
  const stored = await sink(payload).catch(async (err) => {
    gzip.destroy();
    await dumped;
    throw dumpError ?? err;
  });
  await dumped;
  if (dumpError !== null) throw dumpError;
  return stored;
}

function encryptsWithAge(config: Config): boolean {
  return config.backupAgeRecipients.length > 0;
}

/**
 * The age recipients to encrypt to. A BACKUP_ENCRYPTION_KEY (format 1's key) alone is
 * refused rather than ignored: a deployment that meant to encrypt must not
 * silently start writing readable backups.
 */
function recipientsFor(config: Config): readonly string[] {
  if (config.backupAgeRecipients.length === 0 && config.backupEncryptionKey !== null) {
    throw new Error(
      "BACKUP_ENCRYPTION_KEY now only decrypts backups made before age encryption; to encrypt new backups, " +
        "set BACKUP_AGE_RECIPIENTS (or _FILE) to one or more age public keys (age1…), made with age-keygen",
    );
  }
  return config.backupAgeRecipients;
}

/** The embedded migrations up to `version`, which this release must know. */
export function migrationsUpTo(version: string) {
  const migrations = embeddedMigrations();
  const index = migrations.findIndex((m) => m.tag === version);
  if (index < 0) {
    throw new Error(
      `schema version ${version} is one minitwit ${VERSION} does not know; use the release that made it or a newer one`,
    );
  }
  return migrations.slice(0, index + 1);
}

/** The database's name as backup keys hold it; the embedded database is "minitwit". */
export function databaseOf(config: Config): string {
  return keyDatabaseName(config.databaseUrl === null ? "minitwit" : databaseName(config.databaseUrl));
}

/** The Postgres URL; backups and restores do not work on the embedded database. */
export function requirePostgres(config: Config, command: string): string {
  if (config.databaseUrl !== null) return config.databaseUrl;
  throw new Error(
    `${command} needs PostgreSQL: set DATABASE_URL or --database-url. The embedded database (DATA_DIR) ` +
      "is backed up with `minitwit backup --output FILE` while minitwit is stopped, and restored into " +
      "PostgreSQL with `minitwit restore --file FILE` (docs/operations.md, moving off the embedded database)",
  );
}

function seconds(started: number): number {
  return (performance.now() - started) / 1000;
}
