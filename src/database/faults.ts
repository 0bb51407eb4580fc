// What a database error means for the client: the database is away (503,
// retry) or it refused the client's value (400), as opposed to a bug (500).
// The error mapper and the readiness probe ask here.
import { sql } from "drizzle-orm";
import type { Db } from "./open";

// Connection-level failures: the database is down, restarting or
// unreachable. Postgres SQLSTATE class 08 (connection exception) and 57P0x
// (shutdown, cannot connect now), plus postgres.js's and the OS's own codes.
// EAI_AGAIN is what a stopped Swarm service's name gives: Docker's DNS no
// longer knows it and the resolver it forwards to does not answer.
const UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EAI_FAIL",
  "EAI_NODATA",
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
  if (code !== null && (UNAVAILABLE_CODES.has(code) || code.startsWith("08"))) return true;
  // Any failure to look up the server's name, whatever code the resolver chose.
  return firstInChain(error, (e) => (e as { syscall?: unknown }).syscall === "getaddrinfo") !== undefined;
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
  const found = firstInChain(error, (e) => typeof (e as { code?: unknown }).code === "string");
  return found === undefined ? null : ((found as { code: string }).code as string);
}

/** The first error in the `cause` chain (at most 5 deep) that `matches`. */
function firstInChain(error: unknown, matches: (e: object) => boolean): object | undefined {
  for (let e = error, depth = 0; e instanceof Object && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (matches(e)) return e;
  }
  return undefined;
}

/** Round trip to the database; throws when it is unreachable. */
export async function ping(db: Db): Promise<void> {
  await db.execute(sql`select 1`);
}
