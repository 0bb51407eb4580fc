// Row counts for the metrics gauges, read from PostgreSQL's statistics rather
// than counted. `count(*)` walks the whole table (every message ever posted)
// and would run on every scrape of every replica; `n_live_tup` in
// pg_stat_user_tables is a counter the server already keeps per table, so this
// read costs the same at a thousand rows as at a hundred million.
//
// The trade-off: the figure trails commits by up to a few seconds (backends
// publish their statistics at most once a second, or after ten idle seconds)
// and starts from zero after a crash until the next autovacuum ANALYZE. That
// is fine for a dashboard; the exact per-minute rates come from the counters.
import { sql } from "drizzle-orm";
import type { Db } from "./open";
import { rows } from "./queries";

export interface TableSizes {
  readonly users: number;
  readonly messages: number;
  readonly followers: number;
}

/** Live rows per MiniTwit table, as PostgreSQL's statistics count them. */
export async function liveRowEstimates(db: Db): Promise<TableSizes> {
  const found = await rows<{ table: string; live: number | string }>(
    db,
    sql`select relname as "table", n_live_tup as live
        from pg_stat_user_tables
        where schemaname = current_schema() and relname in ('users', 'messages', 'followers')`,
  );
  // n_live_tup is a bigint: postgres.js returns it as a string, PGlite as a number.
  const live = (table: string) => Number(found.find((r) => r.table === table)?.live ?? 0);
  return { users: live("users"), messages: live("messages"), followers: live("followers") };
}
