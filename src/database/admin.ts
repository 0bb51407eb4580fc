// The PostgreSQL chores that the operator commands share (backup, restore,
// replicate, import, seed): one admin connection, quoting for the statements
// that cannot take parameters (COPY, LOCK, TRUNCATE, DDL), the "this database
// already holds data" guard with its one error class, and moving sequences
// past the ids a bulk load wrote. Each is written once, here.
import { sql as drizzleSql } from "drizzle-orm";
import postgres from "postgres";
import { redactUrl } from "../config/postgres-url";
import { type Executor, rows } from "./queries";

/** Runs one SQL statement given as text and returns its rows. */
export type RunSql = (text: string) => Promise<readonly Record<string, unknown>[]>;

/** A postgres.js client, transaction or reserved connection as a RunSql. */
export function runOn(sql: postgres.Sql | postgres.TransactionSql | postgres.ReservedSql): RunSql {
  return (text) => sql.unsafe(text);
}

/** A drizzle database or transaction (PostgreSQL or PGlite) as a RunSql. */
export function runOnDb(db: Executor): RunSql {
  return (text) => rows<Record<string, unknown>>(db, drizzleSql.raw(text));
}

/**
 * A single-connection client for an operator command, quiet about notices and
 * checked with one round trip, so that an unreachable database is reported as
 * such (`unreachable`: "cannot reach the database", ...) with its password hidden.
 */
export async function connectAdmin(url: string, applicationName: string, unreachable: string): Promise<postgres.Sql> {
  const sql = postgres(url, {
    max: 1,
    connect_timeout: 10,
    onnotice: () => {},
    connection: { application_name: applicationName },
  });
  try {
    await sql`select 1`;
  } catch (err) {
    await sql.end({ timeout: 0 }).catch(() => {});
    throw new Error(`${unreachable} ${redactUrl(url)}: ${(err as Error).message}`, { cause: err });
  }
  return sql;
}

/** An identifier for SQL text: `"name"`, inner quotes doubled. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A string literal for SQL text: `'value'`, inner quotes doubled. */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A command refused to write into a database that already holds data (no --force). */
export class HoldsDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HoldsDataError";
  }

  /** The usual wording: `<where> already holds data (table t has rows); use --force to replace it`. */
  static forTable(where: string, table: string): HoldsDataError {
    return new HoldsDataError(`${where} already holds data (table ${table} has rows); use --force to replace it`);
  }
}

/** The first of `tables` that exists and has a row, or null; reads one row at most from each. */
export async function firstTableWithRows(run: RunSql, tables: readonly string[]): Promise<string | null> {
  for (const table of await existingTables(run, tables)) {
    const [row] = await run(`select exists (select 1 from ${quoteIdent(table)}) as found`);
    if (row?.found === true) return table;
  }
  return null;
}

/** The row count of each of `tables` that exists (missing tables are left out), in the order given. */
export async function rowCounts(run: RunSql, tables: readonly string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const table of await existingTables(run, tables)) {
    const [row] = await run(`select count(*)::text as n from ${quoteIdent(table)}`);
    counts.set(table, Number(row?.n ?? 0));
  }
  return counts;
}

async function existingTables(run: RunSql, tables: readonly string[]): Promise<string[]> {
  if (tables.length === 0) return [];
  const found = await run(
    `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = current_schema() and c.relkind in ('r', 'p')
       and c.relname in (${tables.map(quoteLiteral).join(", ")})`,
  );
  const present = new Set(found.map((row) => row.name as string));
  return tables.filter((table) => present.has(table));
}

/**
 * Moves the sequence behind every serial or identity column of `tables` past
 * the highest value the column holds, so that the next insert after a bulk
 * load with explicit ids gets a fresh one (1 for an empty table).
 */
export async function moveSequencesPastRows(run: RunSql, tables: readonly string[]): Promise<void> {
  for (const { table, column } of await serialColumns(run, tables)) await run(sequencePastRowsSql(table, column));
}

/** The serial and identity columns of `tables` (those that own a sequence). */
export async function serialColumns(
  run: RunSql,
  tables: readonly string[],
): Promise<{ table: string; column: string }[]> {
  if (tables.length === 0) return [];
  const owned = await run(
    `select c.relname as table_name, a.attname as column_name
     from pg_attribute a
     join pg_class c on c.oid = a.attrelid
     join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = current_schema() and c.relname in (${tables.map(quoteLiteral).join(", ")})
       and a.attnum > 0 and not a.attisdropped
       and pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) is not null
     order by 1, 2`,
  );
  return owned.map((row) => ({ table: row.table_name as string, column: row.column_name as string }));
}

/**
 * The statement that moves the sequence of `table.column` past the column's
 * highest value: max + 1 with is_called = false, so the next value is max + 1.
 * The sequence is looked up when it runs, so the statement also works in a
 * backup script loaded into another database.
 */
export function sequencePastRowsSql(table: string, column: string): string {
  const sequence = `pg_catalog.pg_get_serial_sequence(${quoteLiteral(quoteIdent(table))}, ${quoteLiteral(column)})`;
  return `select pg_catalog.setval(${sequence}, coalesce(max(${quoteIdent(column)}), 0) + 1, false) from ${quoteIdent(table)}`;
}
