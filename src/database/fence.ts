// The mark a move to a new database leaves on the database it leaves
// (`minitwit replicate cutover`, src/replicate/fence.ts): a trigger function
// that makes every write to MiniTwit's tables fail with
// read_only_sql_transaction, whose comment says when the source was fenced
// and, once the cutover is done, when it completed. Everything that must
// know whether a database is still MiniTwit's reads it here: the replicas
// that follow a move (follow.ts), readiness, and backups.
import type { RunSql } from "./admin";

/** The trigger function (and triggers) that make the source refuse writes. */
export const FENCE = "minitwit_move_read_only";

export interface FenceInfo {
  /** When the source started refusing writes (source clock). */
  readonly fencedAt: Date;
  /** When a cutover finished, if one did: from then on this database is retired. */
  readonly completedAt: Date | null;
}

/** The fence on the database `run` reaches, read back from its comment; null when writes are allowed. */
export async function readFence(run: RunSql): Promise<FenceInfo | null> {
  const [row] = await run(
    `select obj_description(p.oid, 'pg_proc') as note
     from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname = current_schema() and p.proname = '${FENCE}'`,
  );
  if (!row) return null;
  try {
    const note = JSON.parse((row.note as string | null) ?? "{}") as { fencedAt?: string; completedAt?: string };
    return {
      fencedAt: new Date(note.fencedAt ?? Number.NaN),
      completedAt: note.completedAt ? new Date(note.completedAt) : null,
    };
  } catch {
    return { fencedAt: new Date(Number.NaN), completedAt: null };
  }
}

/** Whether an error is a write the fence refused (as opposed to a database that is read-only for another reason). */
export function isFenceRefusal(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Object && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (code === "25006" && typeof message === "string" && message.startsWith(FENCE_MESSAGE)) return true;
  }
  return false;
}

/** The first words of the fence's error: what a refused write reads. */
export const FENCE_MESSAGE = "MiniTwit is moving to a new database";
