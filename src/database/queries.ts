// The three ways the store runs a query, each for one kind of statement
// (docs/architecture.md, "Query styles"):
// - `rows(db, sql...)`: SQL drizzle's builder cannot express (CTEs that
//   write, lateral joins with limits); postgres.js returns an array of rows,
//   PGlite an object with `rows`, and this reads both.
// - `preparedPer(build)`: a builder query built once per database with
//   placeholders, so each call only binds values. drizzle builds a query's
//   SQL text anew each time a builder chain runs, which for a timeline select
//   cost more than the round trip (docs/performance.md, "Figures behind the code").
// - `fixedStatement(text)`: the hottest statements, as fixed text on the driver.
import type { SQL } from "drizzle-orm";
import type { Db } from "./open";

/** A database or a transaction: anything that executes SQL. */
export type Executor = Pick<Db, "execute">;

export async function rows<T>(db: Executor, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown;
  if (Array.isArray(result)) return result as T[];
  return (result as { rows: T[] }).rows;
}

type Client =
  | { unsafe(text: string, params: unknown[], options: { prepare: boolean }): Promise<unknown[]> }
  | { query(text: string, params: unknown[]): Promise<{ rows: unknown[] }> };

/**
 * A statement whose text never changes, run with its parameters ($1, $2, …)
 * straight on the driver: for the simulator's writes, MiniTwit's hottest
 * statements. drizzle's `sql` template renders the text again from its
 * pieces on every call, and maps a builder query's rows column by column
 * (docs/performance.md, "Figures behind the code"); this text is written once, and
 * postgres.js prepares it once per connection. Takes the database itself, not
 * a transaction: the driver's client is the database's.
 */
export function fixedStatement<T>(text: string): (db: Db, ...params: unknown[]) => Promise<T[]> {
  return async (db, ...params) => {
    const client = (db as unknown as { $client?: Client }).$client;
    if (client === undefined) throw new TypeError("a fixed statement runs on the database, not in a transaction");
    if ("unsafe" in client) return (await client.unsafe(text, params, { prepare: true })) as T[];
    return (await client.query(text, params)).rows as T[];
  };
}

/** The query `build` makes for a database, built on first use and kept while that database is. */
export function preparedPer<Q>(build: (db: Db) => Q): (db: Db) => Q {
  const built = new WeakMap<Db, Q>();
  return (db) => {
    let query = built.get(db);
    if (query === undefined) {
      query = build(db);
      built.set(db, query);
    }
    return query;
  };
}
