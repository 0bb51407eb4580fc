// What a backup reads from the database, inside its one REPEATABLE READ,
// READ ONLY transaction: the schema version, every table of the schema with
// its columns in an order that loads without breaking a foreign key, each
// table's COPY data when the writer reaches it, and the columns whose
// sequences a restore must move past the loaded ids. Either driver: a
// PostgreSQL server beside a running MiniTwit, or the embedded database of
// a stopped one (its data-directory lock held), which is how an
// installation moves off it (docs/operations.md).
import type { Readable } from "node:stream";
import type { PGlite } from "@electric-sql/pglite";
import pino from "pino";
import type postgres from "postgres";
import type { Config } from "../config/settings";
import { quoteIdent, type RunSql, runOn, serialColumns } from "../database/admin";
import { connectCurrent } from "../database/follow";
import { openDatabase } from "../database/open";
import { createLogger } from "../observability/log";

/** What a snapshot reads through: statements, and one table's COPY data. */
export interface Connection {
  readonly run: RunSql;
  copyOut(table: string, columns: readonly string[]): Promise<AsyncIterable<Uint8Array>>;
}

/** A snapshot's transaction, open; `finish` commits it, or drops it after a failure. */
export interface Snapshot {
  readonly conn: Connection;
  finish(failed: boolean): Promise<void>;
}

const BEGIN = "begin isolation level repeatable read, read only";

/** Opens the snapshot's transaction on the database the configuration names. */
export async function openSnapshot(config: Config): Promise<Snapshot> {
  if (config.databaseUrl === null) return embeddedSnapshot(config);
  // The database in use now: a move's retired source is never backed up (follow.ts).
  const sql = await connectCurrent(config.databaseUrl, "minitwit-backup");
  try {
    const reserved = await sql.reserve();
    // DEFERRABLE: waits for a moment no serializable transaction can disturb, then never blocks writers.
    await reserved.unsafe(`${BEGIN}, deferrable`);
    const conn: Connection = { run: runOn(reserved), copyOut: (table, columns) => copyOut(reserved, table, columns) };
    return {
      conn,
      async finish(failed) {
        if (!failed) {
          await reserved.unsafe("commit");
          reserved.release();
        }
        // After a failure the connection may be mid-COPY: drop it (the server
        // rolls the read-only transaction back) instead of waiting on it.
        await sql.end({ timeout: failed ? 0 : 5 });
      },
    };
  } catch (err) {
    await sql.end({ timeout: 0 });
    throw err;
  }
}

/** The embedded database, opened as every command opens it: its lock first, so never beside a running server. */
async function embeddedSnapshot(config: Config): Promise<Snapshot> {
  // Operator commands log to stderr, so that `--output -` keeps stdout for the backup.
  const database = await openDatabase(config, createLogger(config.logLevel, pino.destination(2)));
  const client = (database.db as unknown as { $client: PGlite }).$client;
  try {
    await client.query(BEGIN);
  } catch (err) {
    await database.close();
    throw err;
  }
  const conn: Connection = {
    run: async (text) => (await client.query<Record<string, unknown>>(text)).rows,
    async copyOut(table, columns) {
      // PGlite has no COPY stream: the data comes whole, as a blob. An
      // embedded database is small enough to hold one table at a time.
      const list = columns.map(quoteIdent).join(", ");
      const result = await client.query(`copy ${quoteIdent(table)} (${list}) to '/dev/blob'`);
      return (result.blob ?? new Blob([])).stream();
    },
  };
  return {
    conn,
    async finish(failed) {
      try {
        await client.query(failed ? "rollback" : "commit");
      } finally {
        await database.close();
      }
    },
  };
}

/** A foreign key: rows of `child` point at rows of `parent`. */
export interface Reference {
  readonly child: string;
  readonly parent: string;
}

/** One table's data, opened only when the writer reaches it (COPYs on one connection run one at a time). */
export interface TableSource {
  readonly table: string;
  readonly columns: readonly string[];
  open(): Promise<AsyncIterable<Uint8Array>>;
}

/**
 * The tables in an order that loads without breaking a foreign key: every
 * table after the tables it references, ties by name so the order is stable.
 * Self-references are fine (COPY checks them row by row); a cycle between
 * tables cannot be loaded table by table and is refused.
 */
export function loadOrder(tables: readonly string[], references: readonly Reference[]): string[] {
  const pending = new Set(tables);
  const order: string[] = [];
  while (pending.size > 0) {
    const ready = [...pending]
      .filter((t) => !references.some((r) => r.child === t && r.parent !== t && pending.has(r.parent)))
      .sort();
    if (ready.length === 0) throw new Error(`foreign keys form a cycle among: ${[...pending].sort().join(", ")}`);
    for (const table of ready) {
      order.push(table);
      pending.delete(table);
    }
  }
  return order;
}

export async function readSchemaVersion(conn: Connection): Promise<string> {
  const [present] = await conn.run("select to_regclass('schema_migrations') is not null as present");
  if (!present?.present) throw new Error("the database has never been migrated (no schema_migrations table)");
  const [last] = await conn.run("select tag from schema_migrations order by tag desc limit 1");
  if (last === undefined) throw new Error("the database has no applied migrations");
  return last.tag as string;
}

/**
 * Every table of the schema with its columns as the database has them, in
 * load order. Tables are discovered rather than listed so a migration that
 * adds a table is backed up without anyone remembering to say so. Generated
 * columns are left out: the database computes them again on load.
 */
export async function tableSources(conn: Connection): Promise<TableSource[]> {
  const tables = (await conn.run(
    `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = current_schema() and c.relkind = 'r'`,
  )) as unknown as { name: string }[];
  const references = (await conn.run(
    `select child.relname as child, parent.relname as parent from pg_constraint k
     join pg_class child on child.oid = k.conrelid
     join pg_class parent on parent.oid = k.confrelid
     join pg_namespace n on n.oid = child.relnamespace
     where k.contype = 'f' and n.nspname = current_schema()`,
  )) as unknown as Reference[];
  const columns = (await conn.run(
    `select table_name, column_name from information_schema.columns
     where table_schema = current_schema() and is_generated = 'NEVER'
     order by table_name, ordinal_position`,
  )) as unknown as { table_name: string; column_name: string }[];
  return loadOrder(
    tables.map((t) => t.name),
    references,
  ).map((table) => {
    const names = columns.filter((c) => c.table_name === table).map((c) => c.column_name);
    return { table, columns: names, open: () => conn.copyOut(table, names) };
  });
}

/** The serial and identity columns of the backed-up tables. */
export function sequenceColumns(
  conn: Connection,
  sources: readonly TableSource[],
): Promise<{ table: string; column: string }[]> {
  return serialColumns(
    conn.run,
    sources.map((s) => s.table),
  );
}

async function copyOut(conn: postgres.ReservedSql, table: string, columns: readonly string[]): Promise<Readable> {
  const list = columns.map(quoteIdent).join(", ");
  const copy = (await conn.unsafe(`copy ${quoteIdent(table)} (${list}) to stdout`).readable()) as Readable;
  // postgres.js pauses the socket when the COPY stream is full and resumes it only from the
  // stream's read(); when the COPY ends while the stream is full, the socket stays paused and
  // the next query on the connection never gets its reply (postgres.js issue #499). Resuming
  // it once the data has been read, as read() would, keeps the connection usable.
  copy.once("end", () => (copy as unknown as { _read(): void })._read());
  return copy;
}
