// Raw-SQL results: postgres.js returns an array of rows, PGlite an object
// with `rows`. Store functions that need SQL drizzle's builder cannot express
// (CTEs that write, lateral joins with limits) go through here.
import type { SQL } from "drizzle-orm";
import type { Db } from "../database";

/** A database or a transaction: anything that executes SQL. */
export type Executor = Pick<Db, "execute">;

export async function rows<T>(db: Executor, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown;
  if (Array.isArray(result)) return result as T[];
  return (result as { rows: T[] }).rows;
}
