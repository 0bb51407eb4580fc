// Making the source refuse writes for the cutover, and giving them back.
//
// The fence is a statement trigger on every replicated table that raises
// `read_only_sql_transaction` for INSERT, UPDATE, DELETE and TRUNCATE. Chosen
// over the alternatives because:
// - it binds every role, superusers and table owners included (a REVOKE binds
//   neither), and every existing connection at its next statement (a
//   `default_transaction_read_only` database setting only binds new sessions,
//   needs existing ones terminated, and any session may switch it off);
// - installing it is a barrier: CREATE TRIGGER's SHARE ROW EXCLUSIVE lock
//   waits for every transaction that is writing those tables to finish, so
//   once the fence commits, each write either committed before it (and is in
//   the WAL the subscriber must confirm) or will fail;
// - it lives in the catalog: it survives a crash of the cutover, and a re-run
//   (or `abort`) finds it. It is not replicated: DDL never is.
// The function's comment records when the fence went up (source clock), so a
// resumed cutover still reports the whole write-unavailable window.
import type postgres from "postgres";
import { quoteIdent, quoteLiteral } from "../database/admin";
import { FENCE_MESSAGE } from "../database/fence";
import { FENCE, type FenceInfo, fenceOnSource, replicatedTables, type Sql } from "./catalog";

// Writers queue behind a waiting lock request, so waiting long for one
// long-running transaction would stall the application; give up and retry.
const LOCK_TIMEOUT = "3s";
const ATTEMPTS = 10;
const RETRYABLE = new Set(["55P03", "40P01"]); // lock_not_available, deadlock_detected

/** Makes the source refuse writes; returns the fence, the existing one when it is already up. */
export async function fenceSource(source: Sql): Promise<FenceInfo> {
  const existing = await fenceOnSource(source);
  if (existing !== null) return existing;
  const tables = replicatedTables();
  await retryingLocks(source, "make the source read-only", async (tx) => {
    // The window starts here: from the lock request on, new writes queue.
    const [now] = await tx<{ at: Date }[]>`select clock_timestamp() as at`;
    const note = JSON.stringify({ fencedAt: (now?.at ?? new Date()).toISOString() });
    // One round trip for everything done under the lock, to keep the queue short.
    await tx.unsafe(
      [
        `lock table ${tables.map(quoteIdent).join(", ")} in share row exclusive mode`,
        `create or replace function ${FENCE}() returns trigger language plpgsql as $fence$
         begin
           raise exception '${FENCE_MESSAGE}: this one no longer accepts writes'
             using errcode = 'read_only_sql_transaction';
         end $fence$`,
        ...tables.flatMap((table) => [
          `drop trigger if exists ${FENCE} on ${quoteIdent(table)}`,
          `create trigger ${FENCE} before insert or update or delete or truncate on ${quoteIdent(table)}
           for each statement execute function ${FENCE}()`,
        ]),
        `comment on function ${FENCE}() is ${quoteLiteral(note)}`,
      ].join(";\n"),
    );
  });
  const fence = await fenceOnSource(source);
  if (fence === null) throw new Error("the read-only fence on the source vanished right after it was made");
  return fence;
}

/** Records on the fence that the cutover finished; the source stays read-only. */
export async function markCutoverComplete(source: Sql, fence: FenceInfo, at: Date): Promise<void> {
  const note = JSON.stringify({ fencedAt: fence.fencedAt.toISOString(), completedAt: at.toISOString() });
  await source.unsafe(`comment on function ${FENCE}() is ${quoteLiteral(note)}`);
}

/** Gives writes back to the source; false when it had no fence. */
export async function liftFence(source: Sql): Promise<boolean> {
  if ((await fenceOnSource(source)) === null) return false;
  await retryingLocks(source, "give writes back to the source", async (tx) => {
    for (const table of replicatedTables()) {
      await tx`drop trigger if exists ${tx(FENCE)} on ${tx(table)}`;
    }
    await tx.unsafe(`drop function if exists ${FENCE}()`);
  });
  return true;
}

/** Runs `work` in a transaction with a short lock timeout, retrying lock timeouts and deadlocks. */
async function retryingLocks(source: Sql, what: string, work: (tx: postgres.TransactionSql) => Promise<void>) {
  for (let attempt = 1; ; attempt++) {
    try {
      await source.begin(async (tx) => {
        await tx.unsafe(`set local lock_timeout = '${LOCK_TIMEOUT}'`);
        await work(tx);
      });
      return;
    } catch (err) {
      const code = (err as { code?: string }).code ?? "";
      if (!RETRYABLE.has(code) || attempt === ATTEMPTS) {
        throw new Error(`could not ${what}: ${(err as Error).message}`, { cause: err });
      }
    }
  }
}
