// The simulator's `latest` action id. Every API request may carry one, and
// writing each to the single `latest` row would make all requests queue on
// that row's lock. Instead the newest value received is kept here and written
// by one flush loop: at most one UPDATE is in flight, at most one starts per
// WRITE_INTERVAL_MS, and values that arrive meanwhile collapse into the next
// one. Reads and shutdown flush at once, so a client always reads back what
// it sent; the row stays the shared, durable truth.
import type { Db } from "../database/open";
import type { Logger } from "../observability/log";
import { readLatestAction, writeLatestAction } from "../store/latest-action";

/**
 * Each UPDATE of the row costs PostgreSQL a statement and a commit whatever
 * it carries. Written as soon as the previous write was done, the row took
 * one UPDATE per request at the simulator's pace (one request at a time); at
 * most one per WRITE_INTERVAL_MS bounds that at any load, and saves
 * PostgreSQL's CPU where it matters most (docs/performance.md, "Figures
 * behind the code"). What it costs: if the MiniTwit process is killed
 * (a stop flushes), the values of its last 10 ms can be lost, within what
 * the write's `synchronous_commit = off` already allows (store/latest.ts).
 */
export const WRITE_INTERVAL_MS = 10;

export class LatestActionTracker {
  private pending: number | null = null;
  private flushing: Promise<void> | null = null;
  private lastWritten: number | null = null;
  private lastWriteStarted = Number.NEGATIVE_INFINITY;
  /** Callers waiting in flush(); while there are any, the loop does not pause. */
  private hurrying = 0;
  private wake: (() => void) | null = null;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly intervalMs = WRITE_INTERVAL_MS,
  ) {}

  /** Records the value received with a request; returns at once. */
  record(value: number): void {
    this.pending = value;
    this.flushing ??= this.drain();
  }

  /** The stored value, after any value already received has been written; -1 when none. */
  async current(): Promise<number> {
    await this.flush();
    return (await readLatestAction(this.db)) ?? -1;
  }

  /** The last value this process wrote, for metrics; null before the first. */
  written(): number | null {
    return this.lastWritten;
  }

  /** Writes what was received, now rather than at the next interval. */
  async flush(): Promise<void> {
    this.hurrying++;
    try {
      while (this.flushing !== null) {
        this.wake?.();
        await this.flushing;
      }
    } finally {
      this.hurrying--;
    }
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending !== null) {
        await this.pause();
        const value = this.pending;
        this.pending = null;
        this.lastWriteStarted = performance.now();
        try {
          await writeLatestAction(this.db, value);
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

  /** Waits out the rest of the interval since the last write began, unless someone is flushing. */
  private async pause(): Promise<void> {
    const wait = this.lastWriteStarted + this.intervalMs - performance.now();
    if (wait <= 0 || this.hurrying > 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, wait);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = null;
  }
}

/** The `latest` query value when it is an integer, else null (nothing is stored). */
export function parseLatestAction(raw: string | null | undefined): number | null {
  if (raw == null || !/^-?\d{1,18}$/.test(raw)) return null;
  const value = Number(raw);
  return Number.isSafeInteger(value) ? value : null;
}
