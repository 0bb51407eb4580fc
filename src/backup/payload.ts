// Reading a stored payload back, whatever wrote it: decrypt (age, or the
// MTWENC1 frames of format 1), gunzip, then decode the SQL script, or the
// MINITWIT-BACKUP 1 container that older releases wrote, told apart by their
// first bytes. Every stage streams; the first error of the source or the
// decryption is the one reported, not the broken stream it leaves behind.
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { AGE_MAGIC, AGE_SCHEME, decryptWithAge } from "./age";
import { decodeContainer } from "./format-v1/container";
import { decryptStream, ENCRYPTION_SCHEME } from "./format-v1/crypto";
import { decodeSqlScript, type ScriptEvent } from "./sql-script-reader";

/** How a payload is decrypted: null when it is not encrypted. */
export type Decryption =
  | { readonly scheme: typeof AGE_SCHEME; readonly identities: readonly string[] }
  | { readonly scheme: typeof ENCRYPTION_SCHEME; readonly key: Uint8Array }
  | null;

export type Encryption = typeof AGE_SCHEME | typeof ENCRYPTION_SCHEME | null;

const V1_CONTAINER = new TextEncoder().encode("MINITWIT-BACKUP ");
const V1_ENCRYPTED = new TextEncoder().encode("MTWENC1\n");
const GZIP = new Uint8Array([0x1f, 0x8b]);

/** What a stored payload's first bytes say about its encryption; throws for anything else. */
export function sniffEncryption(first: Uint8Array, where: string): Encryption {
  if (startsWith(first, new TextEncoder().encode(AGE_MAGIC))) return AGE_SCHEME;
  if (startsWith(first, V1_ENCRYPTED)) return ENCRYPTION_SCHEME;
  if (startsWith(first, GZIP)) return null;
  throw new Error(`${where} is not a MiniTwit backup (neither gzip nor age nor MTWENC1 data)`);
}

export async function* decodePayload(
  source: AsyncIterable<Uint8Array>,
  decryption: Decryption,
): AsyncGenerator<ScriptEvent> {
  let sourceError: unknown = null;
  async function* compressed(): AsyncGenerator<Uint8Array> {
    try {
      if (decryption === null) yield* source;
      else if (decryption.scheme === AGE_SCHEME) yield* decryptWithAge(source, decryption.identities);
      else yield* decryptStream(source, decryption.key);
    } catch (err) {
      sourceError = err;
      throw err;
    }
  }
  const gunzip = createGunzip();
  const unpacked = pipeline(Readable.from(compressed()), gunzip).catch(() => {});
  try {
    yield* decodeEither(gunzip);
  } catch (err) {
    throw sourceError ?? damaged(err);
  } finally {
    gunzip.destroy();
    await unpacked;
  }
}

/** The SQL script's events, or those of format 1's container (which has no header or trailer). */
async function* decodeEither(source: AsyncIterable<Uint8Array>): AsyncGenerator<ScriptEvent> {
  const iterator = source[Symbol.asyncIterator]();
  const first = await iterator.next();
  async function* all(): AsyncGenerator<Uint8Array> {
    if (first.done) return;
    yield first.value;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  }
  const v1 = !first.done && startsWith(first.value, V1_CONTAINER);
  yield* v1 ? decodeContainer(all()) : decodeSqlScript(all());
}

/** zlib's terse errors ("incorrect header check") said in terms of the backup. */
function damaged(err: unknown): unknown {
  const { code, message } = err as { code?: unknown; message?: string };
  if (typeof code !== "string" || !code.startsWith("Z_")) return err;
  return new Error(`the backup's compressed data is damaged or cut short (${message})`, { cause: err });
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return bytes.length >= prefix.length && prefix.every((byte, i) => bytes[i] === byte);
}
