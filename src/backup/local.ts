// Backups as local files: `minitwit backup --output PATH` (or "-" for
// stdout) and `minitwit restore --file PATH`. A file is written under a
// temporary name and renamed once complete, so an interrupted backup never
// leaves a file that looks finished.

import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import type { Writable } from "node:stream";
import { finished } from "node:stream/promises";

/** Stores a payload and returns the SHA-256 and size of exactly the bytes stored. */
export type PayloadSink = (payload: AsyncIterable<Uint8Array>) => Promise<{ sha256: string; size: number }>;

export async function writeLocalPayload(
  output: string,
  payload: AsyncIterable<Uint8Array>,
): Promise<{ sha256: string; size: number }> {
  const partial = `${output}.partial`;
  const target: Writable = output === "-" ? process.stdout : createWriteStream(partial, { flags: "wx" });
  const hasher = new Bun.CryptoHasher("sha256");
  let size = 0;
  try {
    for await (const chunk of payload) {
      hasher.update(chunk);
      size += chunk.length;
      // Waiting for "drain" is the backpressure that keeps memory flat.
      if (!target.write(chunk)) await once(target, "drain");
    }
    if (output !== "-") {
      target.end();
      await finished(target);
      await rename(partial, output);
    }
  } catch (err) {
    if (output !== "-") {
      target.destroy();
      await rm(partial, { force: true });
    }
    // The payload's own errors (the database, the encryption) pass through as they are.
    if (typeof (err as { code?: unknown }).code !== "string") throw err;
    throw new Error(`writing the backup to ${output === "-" ? "stdout" : output} failed: ${message(err)}`, {
      cause: err,
    });
  }
  return { sha256: hasher.digest("hex"), size };
}

/** The bytes of a local file as they are read. */
export async function* readLocalFile(path: string): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of createReadStream(path)) yield chunk as Uint8Array;
  } catch (err) {
    throw new Error(`cannot read ${path}: ${message(err)}`, { cause: err });
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
