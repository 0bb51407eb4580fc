// What a database error means for the client: the database is away (503,
// retry) or it refused the client's value (400), as opposed to a bug (500).
// The error mapper and the readiness probe ask here.
import { sql } from "drizzle-orm";
import type { Db } from "./open";

// Connection-level failures: the database is down, restarting or
// unreachable. Postgres SQLSTATE class 08 (connection exception) and 57P0x
// (shutdown, cannot connect now), plus postgres.js's and the OS's own codes.
const UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "EPIPE",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "57P01",
  "57P02",
  "57P03",
  // read_only_sql_transaction: a database being moved (minitwit replicate
  // cutover) refuses writes for a moment; clients should retry, not report a bug.
  "25006",
]);

/** Whether an error (or its cause, as drizzle wraps driver errors) means the database cannot be reached. */
export function isDatabaseUnavailable(error: unknown): boolean {
  const code = sqlState(error);
  return code !== null && (UNAVAILABLE_CODES.has(code) || code.startsWith("08"));
}

/**
 * Whether the database refused a value the client sent: text PostgreSQL
 * cannot store (a NUL character: 22021, 22P05) or a key too large to index
 * (54000). The client's mistake, so a 400, not a 500.
 */
export function isUnstorableInput(error: unknown): boolean {
  const code = sqlState(error);
  return code === "22021" || code === "22P05" || code === "54000";
}

/** The driver's error code, looking through drizzle's wrapping. */
function sqlState(error: unknown): string | null {
  for (let e = error, depth = 0; e instanceof Object && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
  }
  return null;
}

/** Round trip to the database; throws when it is unreachable. */
export async function ping(db: Db): Promise<void> {
  await db.execute(sql`select 1`);
}
