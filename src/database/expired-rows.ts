// Rows that carry their own expiry (sessions, sign-in attempts) are deleted
// in bounded batches by the requests that add such rows, so each table stays
// about the size of its live rows without a timer on any replica.
import { type SQL, sql } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import type { Db } from "./open";
import { rows } from "./queries";

/**
 * Deletes up to `limit` rows of `table` whose `expiresAt` is at or before
 * `now`; returns how many. Rows another statement holds are skipped, so a
 * purge never waits on a request (and cannot deadlock with one).
 */
export async function purgeExpired(
  db: Db,
  from: { table: PgTable; key: PgColumn; expiresAt: PgColumn },
  now: number,
  limit: number,
): Promise<number> {
  const { table, key, expiresAt } = from;
  const query: SQL = sql`delete from ${table} where ${key} in (
      select ${key} from ${table} where ${expiresAt} <= ${now}::bigint
      limit ${limit} for update skip locked)
    returning 1 as purged`;
  return (await rows<{ purged: number }>(db, query)).length;
}
