// Sign-in throttling, per replica. Failed sign-ins are counted per username
// and per client address within a window. After a few failures each answer is
// slowed down; after more, sign-in answers 429 until the window passes. A
// lock lasts at most LOCK_MS, so the rightful owner is never locked out long,
// and a success clears the username's count.

const WINDOW_MS = 15 * 60_000;
const LOCK_MS = 5 * 60_000;
const SLOW_AFTER = 3;
const STEP_MS = 250;
const MAX_DELAY_MS = 2_000;
const LOCK_USER_AFTER = 10;
// Many people can share one address (NAT), so its threshold is higher.
const LOCK_ADDRESS_AFTER = 50;
const MAX_ENTRIES = 100_000;

interface Entry {
  failures: number;
  first: number;
  lockedUntil: number;
}

export type Verdict = { readonly retryAfterS: number } | { readonly delayMs: number };

export class SignInThrottle {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Whether a sign-in may be attempted now, and how long to delay its answer. */
  check(username: string, address: string): Verdict {
    const t = this.now();
    const lockedUntil = Math.max(
      this.entry(`u:${username}`, t)?.lockedUntil ?? 0,
      this.entry(`a:${address}`, t)?.lockedUntil ?? 0,
    );
    if (lockedUntil > t) return { retryAfterS: Math.ceil((lockedUntil - t) / 1000) };
    const failures = Math.max(
      this.entry(`u:${username}`, t)?.failures ?? 0,
      this.entry(`a:${address}`, t)?.failures ?? 0,
    );
    return { delayMs: Math.min(MAX_DELAY_MS, Math.max(0, failures - SLOW_AFTER + 1) * STEP_MS) };
  }

  failed(username: string, address: string): void {
    const t = this.now();
    this.bump(`u:${username}`, t, LOCK_USER_AFTER);
    this.bump(`a:${address}`, t, LOCK_ADDRESS_AFTER);
  }

  succeeded(username: string): void {
    this.entries.delete(`u:${username}`);
  }

  private bump(key: string, t: number, lockAfter: number): void {
    const entry = this.entry(key, t) ?? { failures: 0, first: t, lockedUntil: 0 };
    entry.failures += 1;
    if (entry.failures >= lockAfter) entry.lockedUntil = t + LOCK_MS;
    if (this.entries.size >= MAX_ENTRIES && !this.entries.has(key)) this.prune(t);
    this.entries.set(key, entry);
  }

  private entry(key: string, t: number): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && t - entry.first > WINDOW_MS && entry.lockedUntil <= t) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Bounds memory under a flood of distinct names: drop expired, then oldest. */
  private prune(t: number): void {
    for (const [key, entry] of this.entries) {
      if (t - entry.first > WINDOW_MS && entry.lockedUntil <= t) this.entries.delete(key);
    }
    const excess = this.entries.size - MAX_ENTRIES / 2;
    if (excess <= 0) return;
    let removed = 0;
    for (const key of this.entries.keys()) {
      if (removed++ >= excess) break;
      this.entries.delete(key);
    }
  }
}
