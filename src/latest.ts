// The simulator's `latest` action id. Every API request may carry one, and
// writing each to the single `latest` row would make all requests queue on
// that row's lock. Instead the newest value received is kept here and written
// by one flush loop: at most one UPDATE is in flight, and values that arrive
// meanwhile collapse into the next one. Reads wait for the flush, so a client
// always reads back what it sent; the row stays the shared, durable truth.
import type { Db } from "./database";
import type { Logger } from "./log";
import { readLatest, writeLatest } from "./store/latest";

export class LatestTracker {
  private pending: number | null = null;
  private flushing: Promise<void> | null = null;
  private lastWritten: number | null = null;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
  ) {}

  /** Records the value received with a request; returns at once. */
  record(value: number): void {
    this.pending = value;
    this.flushing ??= this.drain();
  }

  /** The stored value, after any value already received has been written; -1 when none. */
  async current(): Promise<number> {
    await this.flush();
    return (await readLatest(this.db)) ?? -1;
  }

  /** The last value this process wrote, for metrics; null before the first. */
  written(): number | null {
    return this.lastWritten;
  }

  async flush(): Promise<void> {
    while (this.flushing !== null) await this.flushing;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending !== null) {
        const value = this.pending;
        this.pending = null;
        try {
          await writeLatest(this.db, value);
          this.lastWritten = value;
        } catch (err) {
          // Keep the value unless a newer one arrived; the next request retries.
          this.pending ??= value;
          this.log.warn({ err }, "could not store latest action id");
          return;
        }
      }
    } finally {
      this.flushing = null;
    }
  }
}

/** The `latest` query value when it is an integer, else null (nothing is stored). */
export function parseLatest(raw: string | null | undefined): number | null {
  if (raw == null || !/^-?\d{1,18}$/.test(raw)) return null;
  const value = Number(raw);
  return Number.isSafeInteger(value) ? value : null;
}
