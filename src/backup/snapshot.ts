// What a backup reads from the database, inside its one REPEATABLE READ,
// READ ONLY transaction: the schema version, every table of the schema with
// its columns in an order that loads without breaking a foreign key, each
// table's COPY data when the writer reaches it, and the columns whose
// sequences a restore must move past the loaded ids.
import type { Readable } from "node:stream";
import type postgres from "postgres";
import { quoteIdent, runOn, serialColumns } from "../database/admin";

type Connection = postgres.ReservedSql;

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
  const [present] = await conn`select to_regclass('schema_migrations') is not null as present`;
  if (!present?.present) throw new Error("the database has never been migrated (no schema_migrations table)");
  const [last] = await conn`select tag from schema_migrations order by tag desc limit 1`;
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
  const tables = await conn<{ name: string }[]>`
    select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = current_schema() and c.relkind = 'r'`;
  const references = await conn<Reference[]>`
    select child.relname as child, parent.relname as parent from pg_constraint k
    join pg_class child on child.oid = k.conrelid
    join pg_class parent on parent.oid = k.confrelid
    join pg_namespace n on n.oid = child.relnamespace
    where k.contype = 'f' and n.nspname = current_schema()`;
  const columns = await conn<{ table_name: string; column_name: string }[]>`
    select table_name, column_name from information_schema.columns
    where table_schema = current_schema() and is_generated = 'NEVER'
    order by table_name, ordinal_position`;
  return loadOrder(
    tables.map((t) => t.name),
    references,
  ).map((table) => {
    const names = columns.filter((c) => c.table_name === table).map((c) => c.column_name);
    return { table, columns: names, open: () => copyOut(conn, table, names) };
  });
}

/** The serial and identity columns of the backed-up tables. */
export function sequenceColumns(
  conn: Connection,
  sources: readonly TableSource[],
): Promise<{ table: string; column: string }[]> {
  return serialColumns(
    runOn(conn),
    sources.map((s) => s.table),
  );
}

async function copyOut(conn: Connection, table: string, columns: readonly string[]): Promise<Readable> {
  const list = columns.map(quoteIdent).join(", ");
  const copy = (await conn.unsafe(`copy ${quoteIdent(table)} (${list}) to stdout`).readable()) as Readable;
  // postgres.js pauses the socket when the COPY stream is full and resumes it only from the
  // stream's read(); when the COPY ends while the stream is full, the socket stays paused and
  // the next query on the connection never gets its reply (postgres.js issue #499). Resuming
  // it once the data has been read, as read() would, keeps the connection usable.
  copy.once("end", () => (copy as unknown as { _read(): void })._read());
  return copy;
}
