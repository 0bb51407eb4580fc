// Readers for legacy MiniTwit databases: the original SQLite file (read with
// bun:sqlite, read-only) or a PostgreSQL database with the same three tables
// (`user`, `follower`, `message`). Both yield rows in batches, so a large
// legacy database is never held in memory at once.
import { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { isPostgresUrl, redactUrl } from "../config/postgres-url";
import { connectAdmin } from "../database/admin";
import { UsageError } from "../errors";

export interface LegacyUser {
  readonly userId: number;
  readonly username: string | null;
  readonly email: string | null;
  readonly pwHash: string | null;
}
export interface LegacyFollower {
  readonly whoId: number | null;
  readonly whomId: number | null;
}
export interface LegacyMessage {
  readonly messageId: number;
  readonly authorId: number | null;
  readonly text: string | null;
  readonly pubDate: number | null;
  readonly flagged: unknown;
}

export interface LegacySource {
  /** Where the rows come from, safe to print. */
  readonly location: string;
  users(): AsyncIterable<LegacyUser[]>;
  followers(): AsyncIterable<LegacyFollower[]>;
  messages(): AsyncIterable<LegacyMessage[]>;
  close(): Promise<void>;
}

const BATCH = 1000;
const LEGACY_TABLES = ["user", "follower", "message"] as const;

// The original schema declares text columns as `string`, which SQLite gives
// NUMERIC affinity: a username "007" may be stored as the integer 7. Casting
// back to text returns what SQLite kept, the best that can be recovered.
const QUERIES = {
  users: `select user_id as "userId", cast(username as text) as username, cast(email as text) as email,
            cast(pw_hash as text) as "pwHash" from "user" order by user_id`,
  followers: `select who_id as "whoId", whom_id as "whomId" from follower`,
  messages: `select message_id as "messageId", author_id as "authorId", cast(text as text) as text,
               pub_date as "pubDate", flagged from message order by message_id`,
};

/**
 * Opens the legacy database named by `from`: `postgres://…`, `sqlite:///abs/path.db`, or a file path.
 * A `from` of no known form is a usage error; a missing file or a database without the legacy tables is an error.
 */
export async function openLegacySource(from: string): Promise<LegacySource> {
  if (isPostgresUrl(from)) return openLegacyPostgres(from);
  if (from.startsWith("sqlite:")) return openLegacySqlite(sqlitePath(from));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(from)) {
    throw new UsageError(`--from must be a postgres:// URL, a sqlite:/// URL or a file path, got "${redactUrl(from)}"`);
  }
  return openLegacySqlite(resolve(from));
}

function sqlitePath(from: string): string {
  let url: URL;
  try {
    url = new URL(from);
  } catch {
    throw new UsageError(`--from "${from}" is not a valid sqlite URL; use sqlite:///absolute/path/minitwit.db`);
  }
  if (url.host !== "" && url.host !== "localhost") {
    throw new UsageError(`--from "${from}" names a host; use sqlite:///absolute/path/minitwit.db`);
  }
  const path = decodeURIComponent(url.pathname);
  if (path === "" || path === "/") throw new UsageError(`--from "${from}" names no file`);
  return path;
}

function openLegacySqlite(path: string): LegacySource {
  if (!existsSync(path)) throw new Error(`legacy database ${path} does not exist`);
  let db: Database;
  try {
    db = new Database(path, { readonly: true, strict: true });
    db.query("select count(*) from sqlite_master").get();
  } catch (err) {
    throw new Error(`cannot read ${path} as a SQLite database: ${(err as Error).message}`, { cause: err });
  }
  const present = new Set(
    db
      .query("select name from sqlite_master where type = 'table'")
      .all()
      .map((r) => (r as { name: string }).name),
  );
  const missing = LEGACY_TABLES.filter((t) => !present.has(t));
  if (missing.length > 0) {
    db.close();
    throw new Error(`${path} is not a legacy MiniTwit database: table ${missing.join(", ")} missing`);
  }
  function batches<T>(query: string): AsyncIterable<T[]> {
    return (async function* () {
      let batch: T[] = [];
      for (const row of db.query(query).iterate()) {
        batch.push(row as T);
        if (batch.length === BATCH) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    })();
  }
  return {
    location: path,
    users: () => batches<LegacyUser>(QUERIES.users),
    followers: () => batches<LegacyFollower>(QUERIES.followers),
    messages: () => batches<LegacyMessage>(QUERIES.messages),
    close: async () => db.close(),
  };
}

async function openLegacyPostgres(url: string): Promise<LegacySource> {
  const sql = await connectAdmin(url, "minitwit-import", "cannot read the legacy database");
  const found = await sql<{ name: string }[]>`
    select table_name as name from information_schema.tables
    where table_schema = current_schema() and table_name in ${sql(LEGACY_TABLES)}`;
  const missing = LEGACY_TABLES.filter((t) => !found.some((r) => r.name === t));
  if (missing.length > 0) {
    await sql.end({ timeout: 1 });
    throw new Error(`${redactUrl(url)} is not a legacy MiniTwit database: table ${missing.join(", ")} missing`);
  }
  function batches<T>(query: string): AsyncIterable<T[]> {
    return (async function* () {
      // int8 and numeric columns arrive as strings; the legacy ids are integers.
      for await (const rows of sql.unsafe(query).cursor(BATCH)) yield rows.map(numbersOf) as T[];
    })();
  }
  return {
    location: redactUrl(url),
    users: () => batches<LegacyUser>(QUERIES.users),
    followers: () => batches<LegacyFollower>(QUERIES.followers),
    messages: () => batches<LegacyMessage>(QUERIES.messages),
    close: () => sql.end({ timeout: 5 }),
  };
}

const NUMERIC_FIELDS = new Set(["userId", "whoId", "whomId", "messageId", "authorId", "pubDate"]);

function numbersOf(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    out[key] = NUMERIC_FIELDS.has(key) && typeof value === "string" ? Number(value) : value;
  }
  return out;
}
