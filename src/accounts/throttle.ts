// Sign-in throttling, shared by all replicas through the database. Sign-in
// attempts are counted per username and per client address within a window,
// each before its password is checked, so parallel guesses are counted as
// sequential ones are. After a few attempts each answer is slowed down; after
// more, sign-in answers 429 until the lock passes. A lock lasts at most
// LOCK_MS, so the rightful owner is never locked out long, and a success
// clears the username's count and gives back its attempt to the address.
// A username's key is its folded form, computed by the database's
// fold_username(), the function that decides which names are taken: names
// that fold alike are one account, and share one count.
import { sql } from "drizzle-orm";
import type { Db } from "../database/open";
import { purgeExpiredAttempts, releaseAttempt, reserveAttempt } from "../store/signin-attempts";

const WINDOW_MS = 15 * 60_000;
const LOCK_MS = 5 * 60_000;
const SLOW_AFTER = 3;
const STEP_MS = 250;
const MAX_DELAY_MS = 2_000;
const LOCK_USER_AFTER = 10;
// Many people can share one address (NAT), so its threshold is higher.
const LOCK_ADDRESS_AFTER = 50;
// Each attempt adds at most two rows and removes up to this many expired ones.
const PURGE_BATCH = 100;

export type Verdict = { readonly retryAfterS: number } | { readonly delayMs: number };

export class SignInThrottle {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Counts a sign-in attempt before its password is checked: whether it may
   * go ahead, and how long to delay its answer. A failed attempt needs
   * nothing more; call succeeded() after a success.
   */
  async attempt(username: string, address: string): Promise<Verdict> {
    const t = this.now();
    const [counts] = await Promise.all([
      reserveAttempt(
        this.db,
        [
          { key: userKey(username), lockAfter: LOCK_USER_AFTER },
          { key: addressKey(address), lockAfter: LOCK_ADDRESS_AFTER },
        ],
        { now: t, windowMs: WINDOW_MS, lockMs: LOCK_MS },
      ),
      purgeExpiredAttempts(this.db, t, PURGE_BATCH),
    ]);
    if (counts.some((c) => c.attempts > c.lockAfter)) {
      const lockedUntil = Math.max(...counts.map((c) => c.lockedUntil));
      return { retryAfterS: Math.max(1, Math.ceil((lockedUntil - t) / 1000)) };
    }
    // The attempts before this one.
    const earlier = Math.max(...counts.map((c) => c.attempts)) - 1;
    return { delayMs: Math.min(MAX_DELAY_MS, Math.max(0, earlier - SLOW_AFTER + 1) * STEP_MS) };
  }

  /**
   * After a success. A twin (a name registered before migration 0005 that
   * folds like an older one, db/schema.ts) shares the older name's count, so
   * its owner's own sign-in gives back only its own attempt: clearing the
   * count would wipe the guesses at the other account.
   */
  async succeeded(username: string, address: string, twin = false): Promise<void> {
    const user = userKey(username);
    const where = addressKey(address);
    await releaseAttempt(
      this.db,
      twin ? { cleared: [], released: [user, where] } : { cleared: [user], released: [where] },
    );
  }
}

// One count per folded name, so that `Bob` and `bob`, `οδος` and `ΟΔΟΣ`
// cannot be guessed at separately.
const userKey = (username: string) => sql`'u:' || fold_username(${username}::text)`;
const addressKey = (address: string) => `a:${address}`;
