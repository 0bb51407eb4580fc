// Removing what `replicate start` created: the subscription on the target,
// the replication slots on the source (the subscription's and any left by an
// interrupted table copy), and the publication. A slot nobody reads keeps
// WAL on the source forever and eventually fills its disk, so no path out of
// a move may leave one behind. Each function does nothing when its object is
// already gone, so all of them are safe to re-run.

import {
  fenceOnSource,
  PUBLICATION,
  type Sql,
  SUBSCRIPTION,
  slotName,
  subscriptionOnTarget,
  systemIdentifier,
  waitFor,
} from "./catalog";
import { liftFence } from "./fence";

// How long a slot may stay in use after its subscriber stopped before its
// WAL sender is terminated.
const RELEASE_TIMEOUT_MS = 10_000;

/**
 * Drops the subscription without letting it reach for the source: disable,
 * detach from the slot, drop. The slots are then dropped from the source
 * side by dropSourceSlots, which also works when the subscription is long gone.
 */
export async function dropSubscription(target: Sql): Promise<boolean> {
  const subscription = await subscriptionOnTarget(target);
  if (subscription === null) return false;
  if (subscription.enabled) await target.unsafe(`alter subscription ${SUBSCRIPTION} disable`);
  if (subscription.slot !== null) await target.unsafe(`alter subscription ${SUBSCRIPTION} set (slot_name = none)`);
  await target.unsafe(`drop subscription if exists ${SUBSCRIPTION}`);
  return true;
}

/**
 * Drops the move's slot and the table-copy slots of the target's cluster
 * (named `pg_<subscription>_sync_<table>_<target system id>`). Returns the names dropped.
 */
export async function dropSourceSlots(source: Sql, targetSystemId: string | null): Promise<string[]> {
  const main = await slotName(source);
  const syncPattern = targetSystemId === null ? null : `^pg_[0-9]+_sync_[0-9]+_${targetSystemId}$`;
  const slots = await source<{ name: string }[]>`
    select slot_name as name from pg_replication_slots
    where database = current_database()
      and (slot_name = ${main} or (${syncPattern}::text is not null and slot_name ~ ${syncPattern}::text))`;
  const dropped: string[] = [];
  for (const { name } of slots) {
    await releaseSlot(source, name);
    try {
      await source`select pg_drop_replication_slot(${name})`;
      dropped.push(name);
    } catch (err) {
      // Dropped meanwhile (a table copy finishing drops its own slot): fine.
      if ((err as { code?: string }).code !== "42704") throw err;
    }
  }
  return dropped;
}

/** Waits for the slot's WAL sender to go away after its subscriber stopped; terminates it if it lingers. */
async function releaseSlot(source: Sql, name: string): Promise<void> {
  const activePid = async () => {
    const [row] = await source<{ pid: number | null }[]>`
      select active_pid as pid from pg_replication_slots where slot_name = ${name}`;
    return row?.pid ?? null;
  };
  const released = async () => ((await activePid()) === null ? true : undefined);
  try {
    await waitFor(`slot ${name} to be released`, RELEASE_TIMEOUT_MS, released, 20);
  } catch {
    const pid = await activePid();
    if (pid !== null) await source`select pg_terminate_backend(${pid})`;
    await waitFor(`slot ${name} to be released`, RELEASE_TIMEOUT_MS, released, 20);
  }
}

export async function dropPublication(source: Sql): Promise<boolean> {
  const [row] = await source`select 1 from pg_publication where pubname = ${PUBLICATION}`;
  if (!row) return false;
  await source.unsafe(`drop publication if exists ${PUBLICATION}`);
  return true;
}

export interface AbortOptions {
  /** Lift the fence even though a cutover completed (the target may hold newer writes). */
  readonly force: boolean;
  readonly progress: (line: string) => void;
}

/**
 * Undoes a move: writes go back to the source first (so a crash part-way
 * leaves plain, harmless replication), then the subscription, the slots and
 * the publication go. `target` is null when it cannot be reached: the source
 * is still cleaned, and the target's subscription is reported as left over.
 */
export async function abortMove(source: Sql, target: Sql | null, options: AbortOptions): Promise<void> {
  const { progress } = options;
  const fence = await fenceOnSource(source);
  if (fence?.completedAt && !options.force) {
    throw new Error(
      `the cutover completed at ${fence.completedAt.toISOString()}; the target is the primary now and may hold ` +
        "writes the source lacks. Giving writes back to the source would split the data; pass --force to do it anyway",
    );
  }
  progress((await liftFence(source)) ? "source accepts writes again" : "source accepts writes");
  const targetSystemId = target === null ? null : await systemIdentifier(target);
  if (target !== null) {
    progress(
      (await dropSubscription(target)) ? "dropped the subscription on the target" : "no subscription on the target",
    );
  }
  const slots = await dropSourceSlots(source, targetSystemId);
  progress(
    slots.length > 0
      ? `dropped replication slot ${slots.join(", ")} on the source`
      : "no replication slot left on the source",
  );
  progress((await dropPublication(source)) ? "dropped the publication on the source" : "no publication on the source");
  if (target === null) {
    progress(
      `warning: the target was unreachable; its subscription ${SUBSCRIPTION} may remain: run abort again once it is reachable`,
    );
  }
}
