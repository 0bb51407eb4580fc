// drizzle builds a query's SQL text anew each time a builder chain runs: for
// a timeline select that cost more CPU than the round trip to PostgreSQL
// itself (docs/performance.md, "Figures behind the code"). A prepared query is built once per database (or
// transaction) with placeholders, and each call only binds their values.
import type { Db } from "../database";

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
