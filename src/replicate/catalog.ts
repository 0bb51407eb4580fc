// What `minitwit replicate` creates and how it finds it again. Every object
// has a fixed, recognisable name, so each step can ask the catalogs whether
// it already happened instead of trusting any state of its own: that is what
// makes every step safe to re-run after a crash.
import { getTableName, is } from "drizzle-orm";
import { PgTable } from "drizzle-orm/pg-core";
import type postgres from "postgres";
import * as schema from "../../db/schema";
import { connectAdmin, runOn } from "../database/admin";
import { FENCE, type FenceInfo, readFence } from "../database/fence";

export { FENCE, type FenceInfo };

export type Sql = postgres.Sql;

/** The publication on the source and the subscription on the target. */
export const PUBLICATION = "minitwit_move";
export const SUBSCRIPTION = "minitwit_move";

/**
 * Every table of the schema; new tables join the move without code changes.
 * schema_migrations is not among them: `start` migrates the target itself.
 */
export function replicatedTables(): string[] {
  return Object.values(schema)
    .filter((value) => is(value, PgTable))
    .map((table) => getTableName(table as PgTable))
    .sort();
}

/** One connection per side: session advisory locks and ordering need a single session. */
export function connect(url: string, side: "source" | "target"): Promise<Sql> {
  return connectAdmin(url, `minitwit replicate (${side})`, `cannot connect to the ${side}`);
}

/**
 * The slot name on the source. Slots are per cluster, so the name carries the
 * source database's oid: two databases of one cluster can move independently.
 */
export async function slotName(source: Sql): Promise<string> {
  const [row] = await source<{ oid: number }[]>`select oid from pg_database where datname = current_database()`;
  return `minitwit_move_${row?.oid}`;
}

export interface SubscriptionInfo {
  readonly oid: number;
  readonly enabled: boolean;
  /** Null once the subscription was detached from its slot (`slot_name = NONE`). */
  readonly slot: string | null;
}

export async function subscriptionOnTarget(target: Sql): Promise<SubscriptionInfo | null> {
  const [row] = await target<{ oid: number; enabled: boolean; slot: string | null }[]>`
    select s.oid, s.subenabled as enabled, s.subslotname as slot
    from pg_subscription s join pg_database d on d.oid = s.subdbid
    where d.datname = current_database() and s.subname = ${SUBSCRIPTION}`;
  return row ? { oid: Number(row.oid), enabled: row.enabled, slot: row.slot } : null;
}

/** The tables the publication covers, or null when there is no publication. */
export async function publicationOnSource(source: Sql): Promise<string[] | null> {
  const [publication] = await source`select 1 from pg_publication where pubname = ${PUBLICATION}`;
  if (!publication) return null;
  const tables = await source<{ name: string }[]>`
    select tablename as name from pg_publication_tables where pubname = ${PUBLICATION} order by 1`;
  return tables.map((t) => t.name);
}

export interface SlotInfo {
  readonly name: string;
  readonly activePid: number | null;
  /** Bytes of WAL the subscriber has not confirmed yet; null before its first confirmation. */
  readonly lagBytes: number | null;
}

export async function slotOnSource(source: Sql, name: string): Promise<SlotInfo | null> {
  const [row] = await source<{ activePid: number | null; lag: string | null }[]>`
    select active_pid as "activePid", pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn) as lag
    from pg_replication_slots where slot_name = ${name}`;
  if (!row) return null;
  return { name, activePid: row.activePid, lagBytes: row.lag === null ? null : Math.max(0, Number(row.lag)) };
}

export type SyncState = "initializing" | "copying" | "copied" | "synchronized" | "ready" | "unknown";

const STATES: Record<string, SyncState> = {
  i: "initializing",
  d: "copying",
  f: "copied",
  s: "synchronized",
  r: "ready",
};

/** Each subscribed table's initial-copy state (pg_subscription_rel on the target). */
export async function tableStates(target: Sql, subscriptionOid: number): Promise<Map<string, SyncState>> {
  const found = await target<{ name: string; state: string }[]>`
    select c.relname as name, r.srsubstate as state
    from pg_subscription_rel r join pg_class c on c.oid = r.srrelid
    where r.srsubid = ${subscriptionOid}`;
  return new Map(found.map((r) => [r.name, STATES[r.state] ?? "unknown"]));
}

/** The fence on the source; null when writes are allowed. */
export function fenceOnSource(source: Sql): Promise<FenceInfo | null> {
  return readFence(runOn(source));
}

/**
 * Identifies a cluster (tablesync slot names end with the subscriber's); null
 * when the role may not read it. A copy made with pg_basebackup shares it.
 */
export async function systemIdentifier(sql: Sql): Promise<string | null> {
  try {
    const [row] = await sql<{ id: string }[]>`select system_identifier::text as id from pg_control_system()`;
    return row?.id ?? null;
  } catch {
    return null;
  }
}

/** Polls `check` until it returns a value other than undefined, or fails naming `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string | (() => string),
  timeoutMs: number,
  check: () => Promise<T | undefined>,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) {
      const described = typeof what === "string" ? what : what();
      throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${described}`);
    }
    await Bun.sleep(intervalMs);
  }
}
