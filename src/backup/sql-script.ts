// The backup payload: a plain SQL script that psql loads into an empty
// database, so a backup can be read, inspected and restored with standard
// tools alone (gunzip, age, psql), and by `minitwit restore`
// (sql-script-reader.ts):
//
//   -- minitwit-backup: {"formatVersion":2,"schemaVersion":"…","createdAt":"…"}
//   SET …; BEGIN;
//   create table if not exists schema_migrations (…);     as src/database/migrate.ts creates it
//   <the embedded migrations up to the backup's schema version>
//   COPY "table" ("col", …) FROM stdin;                    one block per table, in load order,
//   <rows in COPY text format>                             schema_migrations' rows among them
//   \.
//   select pg_catalog.setval(…) from "table";              sequences past the loaded ids
//   COMMIT;
//   -- minitwit-backup-end: {"tables":{"users":3,…}}       rows per table
//
// The header and trailer are SQL comments for psql; the reader uses them to
// know the schema version and to prove that nothing was cut or miscounted.
// COPY's text format ends every row with one "\n" (newlines inside values
// are escaped, and a value "\." is written "\\."), so counting "\n" counts
// rows and a line "\." can only be the end of a block.
import type { Migration } from "../../db/migrations";
import { quoteIdent, sequencePastRowsSql } from "../database/admin";
import { migrationStatements, SCHEMA_MIGRATIONS_DDL } from "../database/migrate";
import type { TableSource } from "./snapshot";

export const SCRIPT_FORMAT_VERSION = 2;
export const HEADER_PREFIX = "-- minitwit-backup: ";
export const TRAILER_PREFIX = "-- minitwit-backup-end: ";

export interface ScriptParts {
  readonly schemaVersion: string;
  readonly createdAt: Date;
  /** The embedded migrations up to and including the schema version. */
  readonly migrations: readonly Migration[];
  readonly tables: readonly TableSource[];
  readonly sequences: readonly { table: string; column: string }[];
}

/** The COPY statement that opens a table's block. */
export function copyStatement(table: string, columns: readonly string[]): string {
  return `COPY ${quoteIdent(table)} (${columns.map(quoteIdent).join(", ")}) FROM stdin;`;
}

/** Writes the script; `rows` receives each table's row count once its data is complete. */
export async function* encodeSqlScript(
  parts: ScriptParts,
  rows: (table: string, count: number) => void,
): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  const header = {
    formatVersion: SCRIPT_FORMAT_VERSION,
    schemaVersion: parts.schemaVersion,
    createdAt: parts.createdAt,
  };
  yield encoder.encode(`${preamble(parts, JSON.stringify(header))}\n`);
  const counts: Record<string, number> = {};
  for (const source of parts.tables) {
    yield encoder.encode(`\n${copyStatement(source.table, source.columns)}\n`);
    let count = 0;
    for await (const chunk of await source.open()) {
      count += countNewlines(chunk);
      yield chunk;
    }
    yield encoder.encode("\\.\n");
    counts[source.table] = count;
    rows(source.table, count);
  }
  const sequences = parts.sequences.map(({ table, column }) => `${sequencePastRowsSql(table, column)};`);
  const end = ["", "-- Sequences continue after the highest restored id.", ...sequences, "", "COMMIT;"];
  yield encoder.encode(`${end.join("\n")}\n${TRAILER_PREFIX}${JSON.stringify({ tables: counts })}\n`);
}

function preamble(parts: ScriptParts, header: string): string {
  const first = parts.migrations[0]?.tag;
  const schema = parts.migrations.flatMap((m) => [`-- migration ${m.tag}`, ...migrationStatements(m).map(statement)]);
  return [
    "-- MiniTwit backup: a plain SQL script. Load it into an empty database with",
    "--   psql -v ON_ERROR_STOP=1 -f FILE",
    "-- (its own BEGIN and COMMIT load all or nothing; --single-transaction would commit a cut script's part)",
    `${HEADER_PREFIX}${header}`,
    "SET client_encoding = 'UTF8';",
    "SET standard_conforming_strings = on;",
    "BEGIN;",
    "",
    `-- The schema: migrations ${first} to ${parts.schemaVersion}, as \`minitwit migrate\` applies them.`,
    statement(SCHEMA_MIGRATIONS_DDL),
    ...schema,
    "",
    "-- The data, one COPY block per table; schema_migrations' rows say which migrations are applied.",
  ].join("\n");
}

function statement(sql: string): string {
  return sql.endsWith(";") ? sql : `${sql};`;
}

export function countNewlines(bytes: Uint8Array): number {
  let count = 0;
  for (let at = bytes.indexOf(10); at !== -1; at = bytes.indexOf(10, at + 1)) count++;
  return count;
}
