// Format 1 (used only by the old-format readers in this folder).
// Pull-based reading of a byte stream in the pieces a binary format needs:
// exact lengths, bounded lines, and "whatever is buffered". The backup
// decoders (container and encryption frames) read through this so they hold
// at most one frame in memory, whatever size the network chunks have.

/** The stream ended where the format required more bytes. */
export class TruncatedError extends Error {
  constructor(what: string) {
    super(`unexpected end of data: ${what}`);
    this.name = "TruncatedError";
  }
}

export class ByteReader {
  private readonly chunks: Uint8Array[] = [];
  private buffered = 0;
  private ended = false;
  private readonly source: AsyncIterator<Uint8Array>;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.source = source[Symbol.asyncIterator]();
  }

  /** Exactly `n` bytes; throws TruncatedError naming `what` when the stream ends first. */
  async read(n: number, what: string): Promise<Uint8Array> {
    if (!(await this.fill(n))) throw new TruncatedError(what);
    return this.take(n);
  }

  /** Between 1 and `max` bytes, without waiting for more than one chunk; null at the end. */
  async readSome(max: number): Promise<Uint8Array | null> {
    if (!(await this.fill(1))) return null;
    return this.take(Math.min(max, (this.chunks[0] as Uint8Array).length));
  }

  /** One line without its "\n"; null at a clean end; an error when longer than `max`. */
  async readLine(max: number, what: string): Promise<string | null> {
    let scanned = 0;
    for (;;) {
      let offset = 0;
      for (const chunk of this.chunks) {
        const at = chunk.indexOf(10, Math.max(0, scanned - offset));
        if (at >= 0) {
          const line = this.take(offset + at + 1);
          return new TextDecoder("utf-8", { fatal: true }).decode(line.subarray(0, line.length - 1));
        }
        offset += chunk.length;
      }
      scanned = offset;
      if (scanned > max) throw new Error(`corrupt data: ${what} is longer than ${max} bytes`);
      if (!(await this.fill(scanned + 1))) {
        if (scanned === 0) return null;
        throw new TruncatedError(what);
      }
    }
  }

  /** True when no byte is left. */
  async atEnd(): Promise<boolean> {
    return !(await this.fill(1));
  }

  private async fill(n: number): Promise<boolean> {
    while (this.buffered < n && !this.ended) {
      const next = await this.source.next();
      if (next.done) this.ended = true;
      else if (next.value.length > 0) {
        this.chunks.push(next.value);
        this.buffered += next.value.length;
      }
    }
    return this.buffered >= n;
  }

  private take(n: number): Uint8Array {
    const first = this.chunks[0] as Uint8Array;
    let out: Uint8Array;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = new Uint8Array(n);
      let filled = 0;
      while (filled < n) {
        const chunk = this.chunks[0] as Uint8Array;
        const part = Math.min(chunk.length, n - filled);
        out.set(chunk.subarray(0, part), filled);
        filled += part;
        if (part === chunk.length) this.chunks.shift();
        else this.chunks[0] = chunk.subarray(part);
      }
    }
    this.buffered -= n;
    return out;
  }
}
