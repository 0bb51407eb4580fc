// `minitwit restore`: picks a backup, proves it is intact, brings the target
// database to the backup's schema version, and loads it (restore-load.ts).
//
// Nothing touches the target until the whole payload has been downloaded
// once and its SHA-256 matched the manifest, and (for an encrypted backup)
// the key has been checked. That first pass streams and keeps nothing, so
// the payload is read twice; the second pass, which loads, hashes again and
// rolls back if the object changed in between.
import { drizzle } from "drizzle-orm/postgres-js";
import type postgres from "postgres";
import { embeddedMigrations } from "../../db/migrations";
import * as schema from "../../db/schema";
import type { Config } from "../config";
import type { Db } from "../database";
import { applyMigrations } from "../migrate";
import { connectAdmin, firstTableWithRows, HoldsDataError, runOn } from "../postgres-admin";
import { VERSION } from "../version";
import { requirePostgres } from "./backup";
import { listBackups, type Manifest, PAYLOAD_SUFFIX, parseBackupKey, readManifest } from "./catalog";
import { checkEncryptionKey, ENCRYPTION_HEADER_SIZE, KEY_MESSAGES } from "./crypto";
import { loadBackup, NON_DATA_TABLES } from "./load";
import { type BackupStore, downloadStream, objectExists, objectUrl, requireS3 } from "./s3";

export type Which = { readonly latest: true } | { readonly key: string };

export interface RestoreOptions {
  readonly which: Which;
  /** Replace the data of a target that already holds some. */
  readonly force: boolean;
}

export interface RestoreResult {
  readonly key: string;
  readonly location: string;
  readonly manifest: Manifest;
}

export async function runRestore(config: Config, options: RestoreOptions): Promise<RestoreResult> {
  const url = requirePostgres(config, "restore");
  const store = requireS3(config);
  const { key, manifest } = await chooseBackup(store, options.which);
  const location = objectUrl(store, key);
  const migrations = embeddedMigrations();
  const index = migrations.findIndex((m) => m.tag === manifest.schemaVersion);
  if (index < 0) {
    throw new Error(
      `${location} has schema version ${manifest.schemaVersion}, which minitwit ${VERSION} does not know; ` +
        "restore it with the release that made it or a newer one",
    );
  }
  const encryptionKey = config.backupEncryptionKey;
  if (manifest.encrypted && encryptionKey === null) {
    throw new Error(`${location} is encrypted: set BACKUP_ENCRYPTION_KEY (or _FILE) to the key it was made with`);
  }
  const header = await verifyPayload(store, key, manifest);
  if (manifest.encrypted && encryptionKey !== null) {
    const verdict = checkEncryptionKey(header, encryptionKey);
    if (verdict !== "ok") throw new Error(`${location}: ${KEY_MESSAGES[verdict]}; nothing was restored`);
  }

  const sql = await connectAdmin(url, "minitwit-restore", "cannot reach the database");
  let failed = true;
  try {
    await refuseIfHoldsData(sql, Object.keys(manifest.tables), options.force);
    const { version } = await applyMigrations(
      drizzle(sql, { schema }) as unknown as Db,
      migrations.slice(0, index + 1),
    );
    if (version !== manifest.schemaVersion) {
      throw new Error(
        `the target database is at schema ${version}, newer than the backup's ${manifest.schemaVersion}; ` +
          "restore into an empty database",
      );
    }
    await loadBackup(sql, {
      source: downloadStream(store, key),
      manifest,
      encryptionKey: manifest.encrypted ? encryptionKey : null,
      force: options.force,
    });
    failed = false;
    return { key, location, manifest };
  } finally {
    // On failure the connection may be mid-COPY: dropping it rolls the load back.
    await sql.end({ timeout: failed ? 0 : 5 });
  }
}

async function chooseBackup(store: BackupStore, which: Which): Promise<{ key: string; manifest: Manifest }> {
  if ("latest" in which) {
    const newest = (await listBackups(store)).find((b) => b.complete);
    if (newest === undefined) throw new Error(`there is no complete backup in ${objectUrl(store, `${store.prefix}/`)}`);
    return { key: newest.key, manifest: (await readManifest(store, newest.key)) as Manifest };
  }
  // A bare name is looked up under the prefix; a key with a "/" is taken as it is.
  const key = which.key.includes("/") ? which.key : `${store.prefix}/${which.key}`;
  if (parseBackupKey(key) === null) {
    throw new Error(`"${which.key}" is not a backup key (they end in ${PAYLOAD_SUFFIX}; minitwit backups lists them)`);
  }
  const manifest = await readManifest(store, key);
  if (manifest !== null) return { key, manifest };
  if (await objectExists(store, key)) {
    throw new Error(`${objectUrl(store, key)} has no manifest: its upload never finished; restore another backup`);
  }
  throw new Error(`there is no backup ${objectUrl(store, key)} (minitwit backups lists them)`);
}

/** First pass: the whole payload against the manifest's size and SHA-256; returns its first bytes. */
async function verifyPayload(store: BackupStore, key: string, manifest: Manifest): Promise<Uint8Array> {
  const hasher = new Bun.CryptoHasher("sha256");
  const header = new Uint8Array(ENCRYPTION_HEADER_SIZE);
  let size = 0;
  for await (const chunk of downloadStream(store, key)) {
    if (size < header.length) header.set(chunk.subarray(0, header.length - size), size);
    hasher.update(chunk);
    size += chunk.length;
  }
  const sha256 = hasher.digest("hex");
  if (sha256 !== manifest.sha256 || size !== manifest.size) {
    throw new Error(
      `checksum mismatch: ${objectUrl(store, key)} is ${size} bytes with SHA-256 ${sha256}, its manifest says ` +
        `${manifest.size} bytes with ${manifest.sha256}; the object was modified or damaged; nothing was restored`,
    );
  }
  return header.subarray(0, Math.min(size, header.length));
}

/** Checked before migrating, so a refused restore changes nothing; checked again under lock when loading. */
async function refuseIfHoldsData(sql: postgres.Sql, tables: string[], force: boolean): Promise<void> {
  if (force) return;
  const table = await firstTableWithRows(
    runOn(sql),
    tables.filter((t) => !NON_DATA_TABLES.has(t)),
  );
  if (table !== null) throw HoldsDataError.forTable("the target database", table);
}
