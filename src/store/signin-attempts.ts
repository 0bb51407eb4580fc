// Sign-in attempts, counted in PostgreSQL so that every replica sees the same
// counts and parallel requests cannot all be judged before any of them is
// counted. An attempt is reserved (counted) in one statement before its
// password is checked; a success releases it. The sign-up quota counts
// sign-ups per address the same way (src/accounts/signup-quota.ts).
import { type SQL, sql } from "drizzle-orm";
import { signinAttempts } from "../../db/schema";
import { purgeExpired } from "../database/expired-rows";
import type { Db } from "../database/open";
import { rows } from "../database/queries";

/** A key, or an expression computing it in the database (a username's key folds the name there). */
export type Key = string | SQL;

export interface AttemptKey {
  readonly key: Key;
  /** The count at which this key locks. */
  readonly lockAfter: number;
}

export interface AttemptCount {
  readonly key: string;
  /** Attempts counted in the window, this one included; above lockAfter when this one was refused. */
  readonly attempts: number;
  readonly lockAfter: number;
  /** Unix ms; 0 when not locked. */
  readonly lockedUntil: number;
}

export interface AttemptTimes {
  /** Unix ms. */
  readonly now: number;
  readonly windowMs: number;
  readonly lockMs: number;
}

/**
 * Counts one attempt against each key, in one statement: row locks order
 * parallel attempts, and each sees the count the ones before it left.
 * A key that is locked keeps its count and answers lockAfter + 1 (refused).
 * Otherwise the count rises, and reaching lockAfter locks the key for
 * lockMs; once a lock has passed inside the window, each further attempt
 * is admitted as the lockAfter-th again and locks again. A row past its
 * expiry starts a new window.
 */
export async function reserveAttempt(db: Db, keys: readonly AttemptKey[], t: AttemptTimes): Promise<AttemptCount[]> {
  const now = sql`${t.now}::bigint`;
  const values = sql.join(
    keys.map((k) => sql`(${k.key}::text, 1, ${k.lockAfter}::integer, 0::bigint, ${t.now + t.windowMs}::bigint)`),
    sql`, `,
  );
  const locked = sql`s.locked_until > ${now}`;
  const expired = sql`s.expires_at <= ${now}`;
  const reachesLock = sql`s.attempts + 1 >= excluded.lock_after`;
  const found = await rows<{ key: string; attempts: number; lock_after: number; locked_until: string | number }>(
    db,
    sql`insert into signin_attempts as s (key, attempts, lock_after, locked_until, expires_at)
      values ${values}
      on conflict (key) do update set
        attempts = case
          when ${locked} then excluded.lock_after + 1
          when ${expired} then 1
          else least(s.attempts + 1, excluded.lock_after) end,
        locked_until = case
          when ${locked} then s.locked_until
          when ${expired} then 0
          when ${reachesLock} then ${now} + ${t.lockMs}::bigint
          else 0 end,
        expires_at = case
          when ${locked} then s.expires_at
          when ${expired} then excluded.expires_at
          when ${reachesLock} then greatest(s.expires_at, ${now} + ${t.lockMs}::bigint)
          else s.expires_at end,
        lock_after = excluded.lock_after
      returning key, attempts, lock_after, locked_until`,
  );
  return found.map((r) => ({
    key: r.key,
    attempts: r.attempts,
    lockAfter: r.lock_after,
    lockedUntil: Number(r.locked_until),
  }));
}

/**
 * After a successful sign-in: forgets the counts of `cleared` (the username's)
 * and gives back one attempt on each of `released`. An attempt given back
 * does not count towards a lock: a key it had locked is unlocked.
 */
export async function releaseAttempt(
  db: Db,
  keys: { readonly cleared: readonly Key[]; readonly released: readonly Key[] },
): Promise<void> {
  const list = (some: readonly Key[]) => (some.length === 0 ? sql`null` : sql.join([...some], sql`, `));
  await db.execute(sql`with cleared as (delete from signin_attempts where key in (${list(keys.cleared)}))
    update signin_attempts
    set attempts = attempts - 1, locked_until = case when attempts - 1 < lock_after then 0 else locked_until end
    where key in (${list(keys.released)}) and attempts > 0 and attempts <= lock_after`);
}

/** Deletes up to `limit` rows that no longer matter; returns how many. */
export function purgeExpiredAttempts(db: Db, now: number, limit: number): Promise<number> {
  const { key, expiresAt } = signinAttempts;
  return purgeExpired(db, { table: signinAttempts, key, expiresAt }, now, limit);
}
