// Format 1: decryption of the private frame format (MTWENC1) that backups were
// encrypted with before age (age.ts). Kept so that backups already stored
// encrypted this way still restore with their BACKUP_ENCRYPTION_KEY; nothing
// encrypts with it any more.
//
// AES-256-GCM in frames, so the reader never holds more than one frame, and
// every frame is checked before a byte of it is used.
//
// Encrypted stream, version 1:
//
//   header, 40 bytes: magic "MTWENC1\n" (8) | stream id (16 random bytes) | key check (16)
//   frames:           length n (u32 BE, at most FRAME_SIZE) | flags (u8, 1 = final)
//                     | nonce (12 random bytes) | ciphertext (n) | GCM tag (16)
//
// Each stream gets its own AES key, derived from the configured key and the
// stream id with HKDF-SHA256, so nonces never repeat under one key in
// practice. The additional authenticated data of a frame is
// stream id | frame index (u64 BE) | flags | n: a frame that is reordered,
// dropped, duplicated, spliced in from another backup or marked final too
// early fails authentication. Exactly one final frame ends the stream, so a
// stream cut at a frame boundary is reported as truncated, never accepted.
// The key check (also derived with HKDF, one-way) tells "wrong key" apart
// from "modified backup" without revealing anything about the key.
import { createDecipheriv, hkdfSync, timingSafeEqual } from "node:crypto";
import { ByteReader, TruncatedError } from "./byte-reader";

export const ENCRYPTION_SCHEME = "aes-256-gcm-frames-v1";
export const ENCRYPTION_HEADER_SIZE = 40;
const MAGIC = new TextEncoder().encode("MTWENC1\n");
const FRAME_SIZE = 64 * 1024;
const FRAME_HEAD = 4 + 1 + 12;
const TAG_SIZE = 16;
const FINAL = 1;

/** A backup that cannot be decrypted; the message says whether the key or the data is at fault. */
export class BackupDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BackupDecryptionError";
  }
}

export async function* decryptStream(source: AsyncIterable<Uint8Array>, key: Uint8Array): AsyncGenerator<Uint8Array> {
  const reader = new ByteReader(source);
  const header = await readOrFail(reader, ENCRYPTION_HEADER_SIZE, "the encryption header");
  const verdict = checkEncryptionKey(header, key);
  if (verdict !== "ok") throw new BackupDecryptionError(KEY_MESSAGES[verdict]);
  const streamId = header.subarray(MAGIC.length, MAGIC.length + 16);
  const aesKey = deriveKeys(key, streamId).aes;
  for (let index = 0n; ; index++) {
    if (await reader.atEnd()) {
      throw new BackupDecryptionError("the backup is truncated: it ends before its final encrypted frame");
    }
    const head = await readOrFail(reader, FRAME_HEAD, `encrypted frame ${index}`);
    const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
    const length = view.getUint32(0);
    const flags = view.getUint8(4);
    if (length > FRAME_SIZE || (flags & ~FINAL) !== 0) {
      throw new BackupDecryptionError(`encrypted frame ${index} has a corrupt header: the backup was modified`);
    }
    const body = await readOrFail(reader, length + TAG_SIZE, `encrypted frame ${index}`);
    const decipher = createDecipheriv("aes-256-gcm", aesKey, head.subarray(5), { authTagLength: TAG_SIZE });
    decipher.setAAD(frameAad(streamId, index, flags, length));
    decipher.setAuthTag(body.subarray(length));
    let plain: Uint8Array;
    try {
      plain = concat([decipher.update(body.subarray(0, length)), decipher.final()]);
    } catch {
      throw new BackupDecryptionError(`encrypted frame ${index} failed authentication: the backup was modified`);
    }
    yield plain;
    if (flags & FINAL) {
      if (!(await reader.atEnd())) throw new BackupDecryptionError("data follows the final encrypted frame");
      return;
    }
  }
}

export type KeyVerdict = "ok" | "wrong-key" | "not-encrypted";

export const KEY_MESSAGES: Record<Exclude<KeyVerdict, "ok">, string> = {
  "wrong-key":
    "wrong encryption key: this backup was encrypted with a different BACKUP_ENCRYPTION_KEY (or its header was modified)",
  "not-encrypted": "the backup does not start with an encryption header although its manifest says it is encrypted",
};

/** Checks the first ENCRYPTION_HEADER_SIZE bytes of a stream against a key, before anything is decrypted. */
export function checkEncryptionKey(header: Uint8Array, key: Uint8Array): KeyVerdict {
  if (header.length < ENCRYPTION_HEADER_SIZE || !timingSafeEqual(header.subarray(0, MAGIC.length), MAGIC)) {
    return "not-encrypted";
  }
  const streamId = header.subarray(MAGIC.length, MAGIC.length + 16);
  const expected = deriveKeys(key, streamId).check;
  return timingSafeEqual(header.subarray(MAGIC.length + 16, ENCRYPTION_HEADER_SIZE), expected) ? "ok" : "wrong-key";
}

function deriveKeys(key: Uint8Array, streamId: Uint8Array): { aes: Uint8Array; check: Uint8Array } {
  return {
    aes: new Uint8Array(hkdfSync("sha256", key, streamId, "minitwit backup v1 encryption", 32)),
    check: new Uint8Array(hkdfSync("sha256", key, streamId, "minitwit backup v1 key check", 16)),
  };
}

function frameAad(streamId: Uint8Array, index: bigint, flags: number, length: number): Uint8Array {
  const aad = new Uint8Array(16 + 8 + 1 + 4);
  aad.set(streamId, 0);
  const view = new DataView(aad.buffer);
  view.setBigUint64(16, index);
  view.setUint8(24, flags);
  view.setUint32(25, length);
  return aad;
}

async function readOrFail(reader: ByteReader, n: number, what: string): Promise<Uint8Array> {
  try {
    return await reader.read(n, what);
  } catch (err) {
    if (err instanceof TruncatedError) throw new BackupDecryptionError(`the backup is truncated inside ${what}`);
    throw err;
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
