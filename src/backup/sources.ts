// Where a restore's backup comes from, and how it is proven intact before
// anything is loaded:
//
// - S3 (--latest, --key): the whole payload is downloaded once and its size
//   and SHA-256 matched against the manifest, then the key is checked against
//   the encryption header. That pass keeps nothing, so the payload is read
//   twice; the loading pass hashes again and rolls back if it changed.
// - A local file (--file): read once through decryption, gunzip and the
//   script reader, which checks age's authentication, gzip's CRC and the
//   script's own trailer of row counts; a manifest next to it (as
//   `minitwit backup --output` writes, or as downloaded from S3) is checked
//   too, and is required for a legacy-format file, which has no trailer.

import type { Config } from "../config/settings";
import { AGE_SCHEME, checkAgeIdentity } from "./age";
import {
  listBackups,
  type Manifest,
  manifestKeyFor,
  PAYLOAD_SUFFIXES,
  parseBackupKey,
  parseManifest,
  readManifest,
} from "./catalog";
import { checkEncryptionKey, ENCRYPTION_HEADER_SIZE, ENCRYPTION_SCHEME, KEY_MESSAGES } from "./format-v1/crypto";
import { readLocalFile } from "./local";
import { type Decryption, decodePayload, type Encryption, sniffEncryption } from "./payload";
import { type BackupStore, downloadStream, objectExists, objectUrl, requireS3 } from "./s3";

export type Which = { readonly latest: true } | { readonly key: string } | { readonly file: string };

export interface ChosenBackup {
  readonly location: string;
  readonly manifest: Manifest;
  readonly hadManifest: boolean;
  readonly decryption: Decryption;
  open(): AsyncIterable<Uint8Array>;
}

export async function storedBackup(config: Config, which: Exclude<Which, { file: string }>): Promise<ChosenBackup> {
  const store = requireS3(config);
  const { key, manifest } = await chooseBackup(store, which);
  const location = objectUrl(store, key);
  const encryption = !manifest.encrypted ? null : manifest.encryption === AGE_SCHEME ? AGE_SCHEME : ENCRYPTION_SCHEME;
  const decryption = decryptionFor(config, encryption, location);
  const header = await verifyPayload(store, key, manifest);
  if (decryption?.scheme === AGE_SCHEME) await checkAgeIdentity(downloadStream(store, key), decryption.identities);
  if (decryption?.scheme === ENCRYPTION_SCHEME) {
    const verdict = checkEncryptionKey(header, decryption.key);
    if (verdict !== "ok") throw new Error(`${location}: ${KEY_MESSAGES[verdict]}; nothing was restored`);
  }
  return { location, manifest, hadManifest: true, decryption, open: () => downloadStream(store, key) };
}

export async function localBackup(config: Config, path: string): Promise<ChosenBackup> {
  const file = Bun.file(path);
  if (!(await file.exists())) throw new Error(`there is no file ${path}`);
  const encryption = sniffEncryption(await file.slice(0, 64).bytes(), path);
  const decryption = decryptionFor(config, encryption, path);
  const besideFile = Bun.file(manifestKeyFor(path));
  const beside = (await besideFile.exists()) ? parseManifest(await besideFile.text(), path) : null;
  // With a manifest, its checksum speaks first: "modified" says more than the error decoding it would give.
  if (beside !== null) checkChecksum(path, beside, await hashFile(path));
  const scanned = await scanLocal(path, decryption);
  if (beside !== null) {
    checkChecksum(path, beside, scanned);
    if (JSON.stringify(scanned.tables) !== JSON.stringify(beside.tables)) {
      throw new Error(`${path} holds rows ${JSON.stringify(scanned.tables)}, its manifest says otherwise`);
    }
    return { location: path, manifest: beside, hadManifest: true, decryption, open: () => readLocalFile(path) };
  }
  if (scanned.schemaVersion === null) {
    throw new Error(
      `${path} is an old-format backup: restore it with its manifest next to it (${manifestKeyFor(path)})`,
    );
  }
  const manifest: Manifest = {
    format: "minitwit-backup",
    formatVersion: 2,
    key: path,
    database: "",
    schemaVersion: scanned.schemaVersion,
    tables: scanned.tables,
    sha256: scanned.sha256,
    size: scanned.size,
    createdAt: scanned.createdAt ?? "",
    compression: "gzip",
    encrypted: encryption !== null,
    encryption,
  };
  return { location: path, manifest, hadManifest: false, decryption, open: () => readLocalFile(path) };
}

interface Scanned {
  readonly sha256: string;
  readonly size: number;
  readonly schemaVersion: string | null;
  readonly createdAt: string | null;
  readonly tables: Record<string, number>;
}

/** Reads the whole file through every check the format has, keeping nothing but counts. */
async function scanLocal(path: string, decryption: Decryption): Promise<Scanned> {
  const hasher = new Bun.CryptoHasher("sha256");
  let size = 0;
  async function* hashed(): AsyncGenerator<Uint8Array> {
    for await (const chunk of readLocalFile(path)) {
      hasher.update(chunk);
      size += chunk.length;
      yield chunk;
    }
  }
  let schemaVersion: string | null = null;
  let createdAt: string | null = null;
  const tables: Record<string, number> = {};
  try {
    for await (const event of decodePayload(hashed(), decryption)) {
      if (event.kind === "header") ({ schemaVersion, createdAt } = event);
      if (event.kind === "end") tables[event.table] = event.rows;
    }
  } catch (err) {
    throw new Error(`${path} cannot be restored: ${(err as Error).message}; nothing was restored`, { cause: err });
  }
  return { sha256: hasher.digest("hex"), size, schemaVersion, createdAt, tables };
}

async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const hasher = new Bun.CryptoHasher("sha256");
  let size = 0;
  for await (const chunk of readLocalFile(path)) {
    hasher.update(chunk);
    size += chunk.length;
  }
  return { sha256: hasher.digest("hex"), size };
}

function checkChecksum(path: string, manifest: Manifest, scanned: { sha256: string; size: number }): void {
  if (scanned.sha256 !== manifest.sha256 || scanned.size !== manifest.size) {
    throw new Error(
      `checksum mismatch: ${path} is ${scanned.size} bytes with SHA-256 ${scanned.sha256}, its manifest says ` +
        `${manifest.size} bytes with ${manifest.sha256}; the file was modified or damaged; nothing was restored`,
    );
  }
}

/** The key a backup needs, from the configuration; a clear message when it is missing. */
function decryptionFor(config: Config, encryption: Encryption, location: string): Decryption {
  if (encryption === null) return null;
  if (encryption === AGE_SCHEME) {
    if (config.backupAgeIdentities.length > 0) return { scheme: AGE_SCHEME, identities: config.backupAgeIdentities };
    throw new Error(
      `${location} is encrypted with age: set BACKUP_AGE_IDENTITY_FILE to a file holding an identity it was encrypted to`,
    );
  }
  if (config.backupEncryptionKey !== null) return { scheme: ENCRYPTION_SCHEME, key: config.backupEncryptionKey };
  throw new Error(`${location} is encrypted: set BACKUP_ENCRYPTION_KEY (or _FILE) to the key it was made with`);
}

async function chooseBackup(
  store: BackupStore,
  which: Exclude<Which, { file: string }>,
): Promise<{ key: string; manifest: Manifest }> {
  if ("latest" in which) {
    const newest = (await listBackups(store)).find((b) => b.complete);
    if (newest === undefined) throw new Error(`there is no complete backup in ${objectUrl(store, `${store.prefix}/`)}`);
    return { key: newest.key, manifest: (await readManifest(store, newest.key)) as Manifest };
  }
  // A bare name is looked up under the prefix; a key with a "/" is taken as it is.
  const key = which.key.includes("/") ? which.key : `${store.prefix}/${which.key}`;
  if (parseBackupKey(key) === null) {
    throw new Error(
      `"${which.key}" is not a backup key (they end in ${PAYLOAD_SUFFIXES}; minitwit backups lists them)`,
    );
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
