// A quota of sign-ups per client address and hour, shared by all replicas
// through the database, as the sign-in throttle is: each sign-up is counted
// before it is checked, in the same statement that tells whether the address
// still may (store/signin-attempts.ts, under `s:` keys), so parallel sign-ups
// are counted as sequential ones are, and a sign-up that fails its checks
// gives its count back. The simulator, with its credential, is never counted:
// it registers thousands of users from one address.
import type { Db } from "../database/open";
import { releaseAttempt, reserveAttempt } from "../store/signin-attempts";

/** The quota's window: an address may sign up `perHour` users in an hour. */
const WINDOW_MS = 60 * 60_000;

export class SignUpQuota {
  /** @param perHour sign-ups per address and hour; 0 turns the quota off */
  constructor(
    private readonly db: Db,
    private readonly perHour: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Counts a sign-up from `address` before it is checked. Null when it may
   * go ahead (call giveBack() if it then fails); else the seconds until the
   * address may sign up again.
   */
  async take(address: string): Promise<number | null> {
    if (this.perHour === 0) return null;
    const t = this.now();
    // The lock lasts the window: once an address has used its quota, the next
    // sign-up is admitted an hour after the one that used it up.
    const [count] = await reserveAttempt(this.db, [{ key: quotaKey(address), lockAfter: this.perHour }], {
      now: t,
      windowMs: WINDOW_MS,
      lockMs: WINDOW_MS,
    });
    if (count === undefined || count.attempts <= count.lockAfter) return null;
    return Math.max(1, Math.ceil((count.lockedUntil - t) / 1000));
  }

  /** Gives back the count of a sign-up that failed its checks (a taken name, a typo). */
  async giveBack(address: string): Promise<void> {
    if (this.perHour === 0) return;
    await releaseAttempt(this.db, { cleared: [], released: [quotaKey(address)] });
  }
}

const quotaKey = (address: string) => `s:${address}`;

/** The answer's text for a refused sign-up. */
export function quotaMessage(retryAfterS: number): string {
  const minutes = Math.ceil(retryAfterS / 60);
  return `Too many sign-ups from your address. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`;
}
