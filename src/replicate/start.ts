// `replicate start`: preflight, migrate the target, then publication on the
// source, slot on the source, subscription on the target (with the initial
// copy). Each object is created only when missing, so a second run, or a run
// after a crash half-way, continues where the first stopped.
//
// The slot is created from the source side rather than by CREATE
// SUBSCRIPTION: that also works when both databases live in one cluster
// (where CREATE SUBSCRIPTION creating its own slot would wait on itself), and
// it lets a re-run tell a slot left by an interrupted start from one in use.
//
// The subscription commits synchronously: by default a subscriber reports a
// change as flushed only after its WAL writer got to it (up to a few hundred
// milliseconds later), and the cutover, with the source refusing writes,
// waits for exactly that report.
import { drizzle } from "drizzle-orm/postgres-js";
import * as schema from "../../db/schema";
import { quoteLiteral } from "../database/admin";
import { applyMigrations } from "../database/migrate";
import type { Db } from "../database/open";
import {
  PUBLICATION,
  publicationOnSource,
  replicatedTables,
  type Sql,
  SUBSCRIPTION,
  slotName,
  slotOnSource,
  subscriptionOnTarget,
  tableStates,
  waitFor,
} from "./catalog";
import { preflight } from "./preflight";

export interface StartOptions {
  /** The source as the target's server reaches it: goes into the subscription's CONNECTION. */
  readonly publisherUrl: string;
  /** Empty the target's tables first when they hold rows. */
  readonly force: boolean;
  /** The role that is to own the target's tables (MiniTwit's); null: the owner of the source's. */
  readonly owner: string | null;
  /** Wait until every table finished its initial copy, at most this long; null: return at once. */
  readonly waitMs: number | null;
  readonly progress: (line: string) => void;
}

export async function startMove(source: Sql, target: Sql, options: StartOptions): Promise<void> {
  const { progress } = options;
  const slot = await slotName(source);
  const checks = await preflight(source, target, slot, options.force);
  for (const check of checks) progress(`${check.ok ? "ok  " : "FAIL"}  ${check.detail}`);
  const failed = checks.filter((c) => !c.ok).length;
  if (failed > 0) throw new Error(`preflight failed: ${failed} of ${checks.length} checks; nothing was changed`);

  const { applied, version } = await applyMigrations(drizzle(target, { schema }) as unknown as Db);
  progress(applied.length > 0 ? `target migrated to ${version}` : `target schema is current (${version})`);
  const owner = options.owner ?? (await tablesOwner(source));
  await giveTablesTo(target, owner);
  progress(`the target's tables belong to ${owner}, the role MiniTwit connects as`);

  const tables = replicatedTables();
  const existing = await subscriptionOnTarget(target);
  if (existing === null && options.force) {
    await target`truncate ${target(tables)} restart identity cascade`;
  }
  await ensurePublication(source, tables, progress);
  const subscription =
    existing === null
      ? await subscribe(source, target, slot, options)
      : await resume(source, target, existing, progress);
  if (options.waitMs !== null) {
    await waitForInitialCopy(target, subscription.oid, tables, options.waitMs);
    progress("every table is copied and replicating; run `minitwit replicate cutover` when ready");
  } else {
    progress("follow the initial copy with `minitwit replicate status`");
  }
}

type Subscription = NonNullable<Awaited<ReturnType<typeof subscriptionOnTarget>>>;

/** The publication covers exactly the replicated tables, created or corrected. */
async function ensurePublication(source: Sql, tables: string[], progress: (line: string) => void): Promise<void> {
  const published = await publicationOnSource(source);
  if (published === null) {
    await source`create publication ${source(PUBLICATION)} for table ${source(tables)}`;
    progress(`created publication ${PUBLICATION} on the source for ${tables.join(", ")}`);
  } else if (published.join() !== tables.join()) {
    await source`alter publication ${source(PUBLICATION)} set table ${source(tables)}`;
    progress(`publication ${PUBLICATION} now covers ${tables.join(", ")}`);
  } else {
    progress(`publication ${PUBLICATION} exists on the source`);
  }
}

/** A fresh slot on the source and the subscription on the target; the initial copy starts. */
async function subscribe(source: Sql, target: Sql, slot: string, options: StartOptions): Promise<Subscription> {
  const existing = await slotOnSource(source, slot);
  if (existing?.activePid != null) {
    throw new Error(
      `replication slot ${slot} on the source is in use by process ${existing.activePid}: another ` +
        "database subscribes to it; run `minitwit replicate abort` against that target first",
    );
  }
  // Left by a start that stopped before subscribing: its position is stale.
  if (existing !== null) await source`select pg_drop_replication_slot(${slot})`;
  await source`select pg_create_logical_replication_slot(${slot}, 'pgoutput')`;
  options.progress(`created replication slot ${slot} on the source`);
  await target.unsafe(
    `create subscription ${SUBSCRIPTION} connection ${quoteLiteral(options.publisherUrl)} publication ${PUBLICATION}
     with (create_slot = false, slot_name = ${quoteLiteral(slot)}, copy_data = true, synchronous_commit = 'on')`,
  );
  options.progress(`created subscription ${SUBSCRIPTION} on the target; the initial copy is running`);
  const subscription = await subscriptionOnTarget(target);
  if (subscription === null) throw new Error("the subscription vanished right after it was created");
  return subscription;
}

/** A re-run of start: the existing subscription must still have its slot; enabled again if it was disabled. */
async function resume(
  source: Sql,
  target: Sql,
  subscription: Subscription,
  progress: (line: string) => void,
): Promise<Subscription> {
  if (subscription.slot === null) {
    throw new Error(
      "the subscription is detached from its slot (an interrupted cutover or abort); " +
        "run `minitwit replicate cutover` or `abort` to finish that first",
    );
  }
  if ((await slotOnSource(source, subscription.slot)) === null) {
    throw new Error(
      `the subscription's slot ${subscription.slot} is missing on the source; ` +
        "run `minitwit replicate abort`, then `start --force`",
    );
  }
  if (!subscription.enabled) await target.unsafe(`alter subscription ${SUBSCRIPTION} enable`);
  progress(`subscription ${SUBSCRIPTION} exists on the target${subscription.enabled ? "" : " (enabled it again)"}`);
  return subscription;
}

async function waitForInitialCopy(target: Sql, oid: number, tables: string[], waitMs: number): Promise<void> {
  let pending = "";
  await waitFor(
    () => `the initial copy (not ready: ${pending})`,
    waitMs,
    async () => {
      const states = await tableStates(target, oid);
      pending = tables.filter((t) => states.get(t) !== "ready").join(", ");
      return pending === "" ? true : undefined;
    },
    250,
  );
}

/** The role that owns MiniTwit's tables on the source: the role MiniTwit connects as. */
async function tablesOwner(source: Sql): Promise<string> {
  const [row] = await source<{ owner: string }[]>`
    select tableowner as owner from pg_tables where schemaname = current_schema() and tablename = 'users'`;
  if (row === undefined) throw new Error("the source has no users table: is it a MiniTwit database?");
  return row.owner;
}

/**
 * Every table of the schema (and with them their sequences) owned by
 * `owner`. The migrations ran as the role of --to, usually a superuser, whose
 * tables MiniTwit's own role could not use; the subscription still applies
 * changes as the superuser. Safe to re-run.
 */
async function giveTablesTo(target: Sql, owner: string): Promise<void> {
  const [role] = await target<
    { found: boolean }[]
  >`select exists (select 1 from pg_roles where rolname = ${owner}) as found`;
  if (!role?.found) {
    throw new Error(
      `the role ${owner} does not exist on the target's server: create it there first ` +
        `(createuser --pwprompt ${owner}, with the password MiniTwit uses), or name another with --owner`,
    );
  }
  const tables = await target<{ name: string }[]>`
    select tablename as name from pg_tables where schemaname = current_schema() and tableowner <> ${owner}`;
  for (const { name } of tables) await target`alter table ${target(name)} owner to ${target(owner)}`;
}
