// Where a restore's backup comes from, and how it is proven intact before
// anything is loaded. The backup is a key in a target (target.ts): S3 for
// --latest and --key, the file's directory for --file.
//
// - With a manifest (always in S3; next to a file as `minitwit backup
//   --output` writes it, or as downloaded from S3): the whole payload is read
//   once and its size and SHA-256 matched against the manifest, then the key
//   is checked against the encryption header. That pass keeps nothing, so
//   the payload is read twice; the loading pass hashes again and rolls back
//   if it changed.
// - A file without one: read once through decryption, gunzip and the script
//   reader, which checks age's authentication, gzip's CRC and the script's
//   own trailer of row counts. A format-1 file has no trailer, so it
//   needs its manifest.
import { basename, dirname } from "node:path";
import type { Config } from "../config/settings";
import { AGE_SCHEME, checkAgeIdentity } from "./age";
import { listBackups, type Manifest, manifestKeyFor, PAYLOAD_SUFFIXES, parseBackupKey, readManifest } from "./catalog";
import { Checksum, checkSum } from "./checksum";
import { checkEncryptionKey, ENCRYPTION_HEADER_SIZE, ENCRYPTION_SCHEME, KEY_MESSAGES } from "./format-v1/crypto";
import { type Decryption, decodePayload, type Encryption, sniffEncryption } from "./payload";
import type { BackupTarget } from "./target";
import { fileTarget } from "./targets/file";
import { requireS3 } from "./targets/s3";

export type Which = { readonly latest: true } | { readonly key: string } | { readonly file: string };

export interface ChosenBackup {
  readonly location: string;
  readonly manifest: Manifest;
  readonly hadManifest: boolean;
  readonly decryption: Decryption;
  open(): AsyncIterable<Uint8Array>;
}

/** The backup `which` names, proven intact and decryptable with the configured keys. */
export async function chooseBackup(config: Config, which: Which): Promise<ChosenBackup> {
  const { target, key, manifest } = "file" in which ? await localFile(which.file) : await stored(config, which);
  const location = target.where(key);
  const open = () => target.get(key);
  if (manifest === null) {
    const encryption = sniffEncryption(await firstBytes(open(), 64), location);
    const decryption = decryptionFor(config, encryption, location);
    const scanned = await scan(location, open(), decryption);
    return { location, manifest: manifestOf(location, encryption, scanned), hadManifest: false, decryption, open };
  }
  const encryption = !manifest.encrypted ? null : manifest.encryption === AGE_SCHEME ? AGE_SCHEME : ENCRYPTION_SCHEME;
  const decryption = decryptionFor(config, encryption, location);
  const header = await verifyPayload(location, open(), manifest);
  if (decryption?.scheme === AGE_SCHEME) await checkAgeIdentity(open(), decryption.identities);
  if (decryption?.scheme === ENCRYPTION_SCHEME) {
    const verdict = checkEncryptionKey(header, decryption.key);
    if (verdict !== "ok") throw new Error(`${location}: ${KEY_MESSAGES[verdict]}; nothing was restored`);
  }
  return { location, manifest, hadManifest: true, decryption, open };
}

interface Found {
  readonly target: BackupTarget;
  readonly key: string;
  readonly manifest: Manifest | null;
}

async function localFile(path: string): Promise<Found> {
  const target = fileTarget(dirname(path));
  const key = basename(path);
  if (!(await target.exists(key))) throw new Error(`there is no file ${path}`);
  return { target, key, manifest: await readManifest(target, key) };
}

async function stored(config: Config, which: Exclude<Which, { file: string }>): Promise<Found> {
  const target = requireS3(config);
  if ("latest" in which) {
    const newest = (await listBackups(target)).find((b) => b.complete);
    if (newest === undefined) throw new Error(`there is no complete backup in ${target.where(`${target.prefix}/`)}`);
    return { target, key: newest.key, manifest: await readManifest(target, newest.key) };
  }
  // A bare name is looked up under the prefix; a key with a "/" is taken as it is.
  const key = which.key.includes("/") ? which.key : `${target.prefix}/${which.key}`;
  if (parseBackupKey(key) === null) {
    throw new Error(
      `"${which.key}" is not a backup key (they end in ${PAYLOAD_SUFFIXES}; minitwit backups lists them)`,
    );
  }
  const manifest = await readManifest(target, key);
  if (manifest !== null) return { target, key, manifest };
  if (await target.exists(key)) {
    throw new Error(`${target.where(key)} has no manifest: its upload never finished; restore another backup`);
  }
  throw new Error(`there is no backup ${target.where(key)} (minitwit backups lists them)`);
}

/** First pass: the whole payload against the manifest's size and SHA-256; returns its first bytes. */
async function verifyPayload(location: string, payload: AsyncIterable<Uint8Array>, manifest: Manifest) {
  const checksum = new Checksum();
  const header = new Uint8Array(ENCRYPTION_HEADER_SIZE);
  let size = 0;
  for await (const chunk of checksum.tap(payload)) {
    if (size < header.length) header.set(chunk.subarray(0, header.length - size), size);
    size += chunk.length;
  }
  checkSum(location, manifest, checksum.sum());
  return header.subarray(0, Math.min(size, header.length));
}

async function firstBytes(payload: AsyncIterable<Uint8Array>, n: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(n);
  let size = 0;
  for await (const chunk of payload) {
    bytes.set(chunk.subarray(0, n - size), size);
    size += Math.min(chunk.length, n - size);
    if (size >= n) break;
  }
  return bytes.subarray(0, size);
}

interface Scanned {
  readonly sum: { sha256: string; size: number };
  readonly schemaVersion: string | null;
  readonly createdAt: string | null;
  readonly tables: Record<string, number>;
}

/** Reads the whole payload through every check the format has, keeping nothing but counts. */
async function scan(location: string, payload: AsyncIterable<Uint8Array>, decryption: Decryption): Promise<Scanned> {
  const checksum = new Checksum();
  let schemaVersion: string | null = null;
  let createdAt: string | null = null;
  const tables: Record<string, number> = {};
  try {
    for await (const event of decodePayload(checksum.tap(payload), decryption)) {
      if (event.kind === "header") ({ schemaVersion, createdAt } = event);
      if (event.kind === "end") tables[event.table] = event.rows;
    }
  } catch (err) {
    throw new Error(`${location} cannot be restored: ${(err as Error).message}; nothing was restored`, { cause: err });
  }
  return { sum: checksum.sum(), schemaVersion, createdAt, tables };
}

/** What a file without a manifest is known to hold, once scanned, as a manifest. */
function manifestOf(location: string, encryption: Encryption, scanned: Scanned): Manifest {
  if (scanned.schemaVersion === null) {
    throw new Error(
      `${location} is an old-format backup: restore it with its manifest next to it (${manifestKeyFor(location)})`,
    );
  }
  return {
    format: "minitwit-backup",
    formatVersion: 2,
    key: location,
    database: "",
    schemaVersion: scanned.schemaVersion,
    tables: scanned.tables,
    ...scanned.sum,
    createdAt: scanned.createdAt ?? "",
    compression: "gzip",
    encrypted: encryption !== null,
    encryption,
  };
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
