// The SHA-256 and size of a payload's bytes, exactly as stored: counted as
// the bytes stream past (never held), written into the manifest by a backup
// and checked against it by a restore, once, here.
import type { Manifest } from "./catalog";

export interface Sum {
  readonly sha256: string;
  readonly size: number;
}

/** Counts what flows through `tap`; `sum()` once the stream has ended. */
export class Checksum {
  readonly #hasher = new Bun.CryptoHasher("sha256");
  #size = 0;

  async *tap(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      this.#hasher.update(chunk);
      this.#size += chunk.length;
      yield chunk;
    }
  }

  sum(): Sum {
    return { sha256: this.#hasher.digest("hex"), size: this.#size };
  }
}

/** Throws unless `sum` is what the manifest recorded for the payload at `location`. */
export function checkSum(location: string, manifest: Pick<Manifest, "sha256" | "size">, sum: Sum): void {
  if (sum.sha256 === manifest.sha256 && sum.size === manifest.size) return;
  throw new Error(
    `checksum mismatch: ${location} is ${sum.size} bytes with SHA-256 ${sum.sha256}, its manifest says ` +
      `${manifest.size} bytes with ${manifest.sha256}; it was modified or damaged; nothing was restored`,
  );
}
