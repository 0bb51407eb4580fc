// The cutover: wait until the target is nearly caught up, make the source
// refuse writes, wait until the target confirmed every byte written before
// that, copy the sequences, compare row counts, then remove the subscription,
// its slots and the publication. The write-unavailable window runs from the
// fence to the end, measured on the source's clock.
//
// Every step asks the catalogs where things stand, so a cutover that crashed
// anywhere completes when run again. A failure before the subscription is
// dropped gives writes back to the source (nothing was lost, retry later);
// after that point the data is verified, so a re-run only finishes the
// teardown.

import {
  type FenceInfo,
  fenceOnSource,
  replicatedTables,
  type Sql,
  SUBSCRIPTION,
  slotName,
  slotOnSource,
  subscriptionOnTarget,
  systemIdentifier,
  tableStates,
  waitFor,
} from "./catalog";
import { copySequences, type SequenceValue, verifyRowCounts } from "./compare";
import { fenceSource, liftFence, markCutoverComplete } from "./fence";
import { dropPublication, dropSourceSlots, dropSubscription } from "./teardown";

export type CutoverStep =
  | "caught-up"
  | "read-only"
  | "drained"
  | "sequences"
  | "verified"
  | "unsubscribed"
  | "slots-dropped"
  | "complete";

export interface CutoverOptions {
  /** Fence the source only once the subscriber is at most this many bytes behind. */
  readonly maxLagBytes: number;
  /** Bound on each wait: for the lag to fall under the bound, and for it to reach zero. */
  readonly timeoutMs: number;
  /** Called after each step; the CLI prints `message`. */
  readonly progress: (step: CutoverStep, message: string) => void | Promise<void>;
}

export interface CutoverResult {
  readonly fencedAt: Date;
  readonly completedAt: Date;
  /** Milliseconds between the source refusing writes and the target standing alone. */
  readonly windowMs: number;
  /** True when an earlier run had already completed the cutover. */
  readonly alreadyComplete: boolean;
  readonly sequences: SequenceValue[];
}

export async function cutover(source: Sql, target: Sql, options: CutoverOptions): Promise<CutoverResult> {
  const { progress } = options;
  const slot = await slotName(source);
  const subscription = await subscriptionOnTarget(target);
  let fence = await fenceOnSource(source);

  if (fence?.completedAt) {
    // Done before; only make sure nothing was left behind.
    await teardown(source, target, progress);
    return result(fence, fence.completedAt, true, []);
  }
  if (subscription === null && fence === null) {
    throw new Error("nothing to cut over: no subscription on the target; run `minitwit replicate start` first");
  }

  let sequences: SequenceValue[];
  if (subscription !== null && subscription.slot !== null) {
    if (!subscription.enabled) await target.unsafe(`alter subscription ${SUBSCRIPTION} enable`);
    if (fence === null) {
      await waitCaughtUp(source, target, slot, subscription.oid, options);
      fence = await fenceSource(source);
    }
    const fenced: FenceInfo = fence;
    try {
      await progress("read-only", `source refuses writes since ${fenced.fencedAt.toISOString()}`);
      const lsn = await waitDrained(source, slot, options.timeoutMs);
      await progress("drained", `target confirmed every change up to ${lsn}`);
      sequences = await finalCopy(source, target, progress);
    } catch (err) {
      throw await withFenceLifted(source, err as Error);
    }
  } else {
    // The subscription is gone or detached while the source is fenced: an
    // earlier run passed verification and stopped while tearing down.
    if (fence === null) {
      throw new Error(
        "the subscription is detached from its slot but the source was never made read-only; " +
          "run `minitwit replicate abort`, then `start --force` again",
      );
    }
    await progress("read-only", `source refuses writes since ${fence.fencedAt.toISOString()} (resuming)`);
    sequences = await finalCopy(source, target, progress);
  }

  await teardown(source, target, progress);
  const [clock] = await source<{ at: Date }[]>`select clock_timestamp() as at`;
  const completedAt = clock?.at ?? new Date();
  await markCutoverComplete(source, fence, completedAt);
  const done = result(fence, completedAt, false, sequences);
  await progress("complete", `cutover complete; writes were unavailable for ${done.windowMs} ms`);
  return done;
}

async function waitCaughtUp(source: Sql, target: Sql, slot: string, subscriptionOid: number, options: CutoverOptions) {
  const tables = replicatedTables();
  let last = "no answer yet";
  const lag = await waitFor(
    () => `every table to be ready and the lag to fall under ${options.maxLagBytes} bytes (last: ${last})`,
    options.timeoutMs,
    async () => {
      const states = await tableStates(target, subscriptionOid);
      const notReady = tables.filter((t) => states.get(t) !== "ready");
      const info = await slotOnSource(source, slot);
      if (info === null) throw new Error(`replication slot ${slot} is missing on the source; run abort, then start`);
      last = notReady.length > 0 ? `not ready: ${notReady.join(", ")}` : `lag ${info.lagBytes ?? "unknown"} bytes`;
      const caughtUp =
        notReady.length === 0 &&
        info.activePid !== null &&
        info.lagBytes !== null &&
        info.lagBytes <= options.maxLagBytes;
      return caughtUp ? info.lagBytes : undefined;
    },
  );
  await options.progress("caught-up", `every table ready, lag ${lag} bytes`);
}

/**
 * Waits until the subscriber confirmed (applied and flushed) all WAL up to
 * the current position. Called with the fence up, so every write to the
 * replicated tables is before that position.
 */
async function waitDrained(source: Sql, slot: string, timeoutMs: number): Promise<string> {
  const [position] = await source<{ lsn: string }[]>`select pg_current_wal_lsn()::text as lsn`;
  const lsn = position?.lsn ?? "0/0";
  // Polled often: the source refuses writes while this waits.
  await waitFor(
    `the target to confirm every change up to ${lsn}`,
    timeoutMs,
    async () => {
      const [row] = await source<{ done: boolean | null }[]>`
      select confirmed_flush_lsn >= ${lsn}::pg_lsn as done from pg_replication_slots where slot_name = ${slot}`;
      if (row === undefined) throw new Error(`replication slot ${slot} vanished from the source`);
      return row.done ? true : undefined;
    },
    20,
  );
  return lsn;
}

async function finalCopy(source: Sql, target: Sql, progress: CutoverOptions["progress"]): Promise<SequenceValue[]> {
  const sequences = await copySequences(source, target);
  await progress(
    "sequences",
    `sequences copied: ${sequences.map((s) => `${s.name} ${s.value}`).join(", ") || "none in use"}`,
  );
  const counts = await verifyRowCounts(source, target, replicatedTables());
  await progress("verified", `row counts match: ${[...counts].map(([t, n]) => `${t} ${n}`).join(", ")}`);
  return sequences;
}

async function teardown(source: Sql, target: Sql, progress: CutoverOptions["progress"]): Promise<void> {
  const targetSystemId = await systemIdentifier(target);
  if (await dropSubscription(target)) await progress("unsubscribed", "dropped the subscription on the target");
  const slots = await dropSourceSlots(source, targetSystemId);
  const published = await dropPublication(source);
  const removed = [...slots.map((s) => `slot ${s}`), ...(published ? ["the publication"] : [])];
  await progress("slots-dropped", removed.length > 0 ? `dropped ${removed.join(", ")} on the source` : "source clean");
}

async function withFenceLifted(source: Sql, err: Error): Promise<Error> {
  const lifted = await liftFence(source).then(
    () => true,
    () => false,
  );
  const next = lifted
    ? "the source accepts writes again; fix the cause and run `minitwit replicate cutover` again"
    : "the source may still refuse writes: run `minitwit replicate cutover` or `abort` again";
  return new Error(`cutover stopped: ${err.message}; ${next}`, { cause: err });
}

function result(fence: FenceInfo, completedAt: Date, alreadyComplete: boolean, sequences: SequenceValue[]) {
  const windowMs = Math.max(0, completedAt.getTime() - fence.fencedAt.getTime());
  return { fencedAt: fence.fencedAt, completedAt, windowMs, alreadyComplete, sequences };
}
