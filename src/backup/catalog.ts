// What is stored where, in any target (target.ts): backup keys, their
// manifests, listing them newest first, and retention.
//
// A backup is two objects under the prefix:
//   <prefix>/<database>-<timestamp>.sql.gz           the payload: a gzipped SQL script
//                                                    (.sql.gz.age when encrypted with age;
//                                                    .minitwit.gz from older releases)
//   <prefix>/<database>-<timestamp>.manifest.json    written after the payload
// The timestamp is ISO 8601 in the basic format, UTC, with milliseconds
// (20250102T030405.678Z): it sorts as text, and contains no ":" that some
// stores and file systems mangle. A payload without a manifest is an upload
// that did not finish; it is listed as incomplete and never restored.
import type { BackupTarget } from "./target";

export const SQL_SUFFIX = ".sql.gz";
export const AGE_SUFFIX = ".sql.gz.age";
/** The payload suffix of backups written by releases before the SQL script (formatVersion 1). */
const V1_SUFFIX = ".minitwit.gz";
const MANIFEST_SUFFIX = ".manifest.json";
const KEY_PATTERN =
  /^(.+)-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z(\.sql\.gz\.age|\.sql\.gz|\.minitwit\.gz)$/;
/** How the key patterns' suffixes read in messages. */
export const PAYLOAD_SUFFIXES = `${SQL_SUFFIX}, ${AGE_SUFFIX} or ${V1_SUFFIX}`;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface Manifest {
  readonly format: "minitwit-backup";
  /** 2: a SQL script (sql-script.ts); 1: the container of format 1 (format-v1/). */
  readonly formatVersion: 1 | 2;
  readonly key: string;
  readonly database: string;
  /** The last migration applied to the database the backup was taken from. */
  readonly schemaVersion: string;
  /** Rows per table, in load order. */
  readonly tables: Readonly<Record<string, number>>;
  /** SHA-256 (hex) and size of the stored payload bytes, exactly as uploaded. */
  readonly sha256: string;
  readonly size: number;
  readonly createdAt: string;
  readonly compression: "gzip";
  readonly encrypted: boolean;
  /** "age", "aes-256-gcm-frames-v1" (format 1) or null. */
  readonly encryption: string | null;
  /** The age public keys the backup is encrypted to: which identity a restore needs. */
  readonly ageRecipients?: readonly string[];
}

export interface StoredBackup {
  readonly key: string;
  readonly manifestKey: string;
  readonly database: string;
  readonly createdAt: Date;
  readonly size: number;
  readonly complete: boolean;
}

/** A database name as it appears in keys: characters outside [A-Za-z0-9._-] become "_". */
export function keyDatabaseName(database: string): string {
  return database.replace(/[^A-Za-z0-9._-]/g, "_") || "database";
}

/** The name of a backup taken at `at`: `<database>-<time>.sql.gz`, `.sql.gz.age` when encrypted. */
export function backupName(database: string, at: Date, encrypted: boolean): string {
  const stamp = at.toISOString().replace(/[-:]/g, "");
  return `${keyDatabaseName(database)}-${stamp}${encrypted ? AGE_SUFFIX : SQL_SUFFIX}`;
}

/** The manifest's key (or file name) next to a payload's. */
export function manifestKeyFor(key: string): string {
  const suffix = [AGE_SUFFIX, SQL_SUFFIX, V1_SUFFIX].find((s) => key.endsWith(s));
  return suffix === undefined ? `${key}${MANIFEST_SUFFIX}` : key.slice(0, -suffix.length) + MANIFEST_SUFFIX;
}

/** The database name and time a payload key encodes; null for any other key. */
export function parseBackupKey(key: string): { database: string; createdAt: Date } | null {
  const name = key.slice(key.lastIndexOf("/") + 1);
  const m = KEY_PATTERN.exec(name);
  if (m === null) return null;
  const [, database, ...parts] = m as unknown as [string, string, ...string[]];
  const [y, mo, d, h, mi, s, ms] = parts.map(Number) as [number, number, number, number, number, number, number];
  const createdAt = new Date(Date.UTC(y, mo - 1, d, h, mi, s, ms));
  return Number.isNaN(createdAt.getTime()) ? null : { database, createdAt };
}

/** Every backup under the store's prefix, newest first. */
export async function listBackups(target: BackupTarget): Promise<StoredBackup[]> {
  const under = target.prefix === "" ? "" : `${target.prefix}/`;
  const objects = await target.list(under);
  const keys = new Set(objects.map((o) => o.key));
  const backups: StoredBackup[] = [];
  for (const object of objects) {
    if (object.key.slice(under.length).includes("/")) continue;
    const parsed = parseBackupKey(object.key);
    if (parsed === null) continue;
    const manifestKey = manifestKeyFor(object.key);
    backups.push({ key: object.key, manifestKey, size: object.size, complete: keys.has(manifestKey), ...parsed });
  }
  return backups.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.key < b.key ? 1 : -1));
}

/** The newest backup of `database` that has its manifest, or null. */
export async function newestCompleteBackup(target: BackupTarget, database: string): Promise<StoredBackup | null> {
  return (await listBackups(target)).find((b) => b.complete && b.database === database) ?? null;
}

/** The manifest of a backup; null when it has none. */
export async function readManifest(target: BackupTarget, key: string): Promise<Manifest | null> {
  const text = await target.readText(manifestKeyFor(key));
  return text === null ? null : parseManifest(text, key);
}

export function parseManifest(text: string, key: string): Manifest {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`the manifest of ${key} is not JSON`);
  }
  if (value?.format !== "minitwit-backup") throw new Error(`the manifest of ${key} is not a MiniTwit backup manifest`);
  if (value.formatVersion !== 1 && value.formatVersion !== 2) {
    throw new Error(
      `${key} was made by a newer minitwit (format version ${value.formatVersion}); restore it with that`,
    );
  }
  const tables = value.tables as Record<string, unknown> | undefined;
  const valid =
    typeof value.schemaVersion === "string" &&
    typeof value.sha256 === "string" &&
    /^[0-9a-f]{64}$/.test(value.sha256) &&
    Number.isSafeInteger(value.size) &&
    typeof value.encrypted === "boolean" &&
    typeof tables === "object" &&
    tables !== null &&
    Object.values(tables).every((n) => Number.isSafeInteger(n));
  if (!valid) throw new Error(`the manifest of ${key} is incomplete or malformed`);
  return value as unknown as Manifest;
}

/**
 * The backups of `database` that retention deletes: complete or not, those
 * older than `keepDays` days, except the newest complete backup, which is
 * kept however old it is (an old backup beats none).
 */
export function expiredBackups(
  backups: readonly StoredBackup[],
  database: string,
  keepDays: number,
  now: Date,
): StoredBackup[] {
  const cutoff = now.getTime() - keepDays * DAY_MS;
  const mine = backups
    .filter((b) => b.database === database)
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const newest = mine.find((b) => b.complete);
  return mine.filter((b) => b !== newest && b.createdAt.getTime() < cutoff);
}

/**
 * Deletes the expired backups of `database`, each manifest before its
 * payload: an interrupted run leaves a payload without manifest, which the
 * next run deletes, never a manifest pointing at nothing.
 */
export async function pruneBackups(
  target: BackupTarget,
  database: string,
  keepDays: number,
  now: Date,
): Promise<string[]> {
  const expired = expiredBackups(await listBackups(target), database, keepDays, now);
  for (const backup of expired) {
    await target.delete(backup.manifestKey);
    await target.delete(backup.key);
  }
  return expired.map((b) => b.key);
}
