// The simulator's latest action id: a single row.
import { eq } from "drizzle-orm";
import { latest } from "../../db/schema";
import type { Db } from "../database/open";
import { fixedStatement, preparedPer } from "../database/queries";

const read = preparedPer((db) =>
  db.select({ value: latest.value }).from(latest).where(eq(latest.id, 1)).prepare("read_latest"),
);

export async function readLatestAction(db: Db): Promise<number | null> {
  const [row] = await read(db).execute();
  return row === undefined ? null : Number(row.value);
}

/**
 * Stores the value without waiting for the disk: the write commits with
 * synchronous_commit off (set for this one statement's transaction), so it
 * neither waits for nor adds a WAL flush; the next user write's flush takes
 * it along. Users' data keeps synchronous commits. What this gives up: if the
 * database host itself crashes, the last fraction of a second of `latest`
 * values can be lost, and GET /latest then answers a slightly older id. A
 * restart of MiniTwit or of PostgreSQL loses nothing; at the simulator's pace
 * (one request at a time) every write is faster for it (docs/performance.md).
 */
export async function writeLatestAction(db: Db, value: number): Promise<void> {
  await upsertLatest(db, value);
}

const upsertLatest = fixedStatement(
  `insert into latest (id, value)
   select 1, $1::bigint from (select set_config('synchronous_commit', 'off', true)) as async_commit
   on conflict (id) do update set value = excluded.value`,
);
