// The loading half of a restore, in one transaction on one connection:
// lock and (with --force) empty the tables, stream the payload through
// hash -> decrypt -> gunzip -> decoder (payload.ts) into COPY ... FROM STDIN,
// then check everything before committing: the payload hash again, each
// table's row count against the manifest, the migration history, and move
// every sequence past the highest id so the next insert cannot collide.
// Any failure rolls the whole load back; the target is as it was.
import { once } from "node:events";
import type { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import type postgres from "postgres";
import { firstTableWithRows, HoldsDataError, moveSequencesPastRows, quoteIdent, runOn } from "../database/admin";
import type { Manifest } from "./catalog";
import { type Decryption, decodePayload } from "./payload";
import type { ScriptEvent } from "./sql-script-reader";

/** Tables whose rows do not count as "the target holds data" (sign-in attempts are counters that expire in minutes). */
export const NON_DATA_TABLES = new Set(["schema_migrations", "latest", "signin_attempts"]);

export interface LoadInput {
  readonly source: AsyncIterable<Uint8Array>;
  readonly manifest: Manifest;
  readonly decryption: Decryption;
  readonly force: boolean;
}

type Connection = postgres.ReservedSql;
type History = readonly Record<string, unknown>[];

export async function loadBackup(sql: postgres.Sql, input: LoadInput): Promise<void> {
  const { manifest } = input;
  const tables = Object.keys(manifest.tables);
  const conn = await sql.reserve();
  await conn.unsafe("begin");
  const { targetColumns, history } = await prepareTarget(conn, tables, input.force);
  const payload = hashing(input.source);
  const events = decodePayload(payload.bytes, input.decryption);
  const loaded = await copyIntoTables(conn, events, targetColumns, manifest);
  if (payload.sha256() !== manifest.sha256 || payload.size() !== manifest.size) {
    throw new Error("the backup changed while it was being restored (checksum mismatch); rolled back");
  }
  await checkLoaded(conn, manifest, loaded, history);
  await moveSequencesPastRows(runOn(conn), tables);
  await conn.unsafe("commit");
  conn.release();
}

/** Locks the tables, refuses data without --force, notes the migration history, empties the tables. */
async function prepareTarget(
  conn: Connection,
  tables: string[],
  force: boolean,
): Promise<{ targetColumns: Map<string, Set<string>>; history: History }> {
  const targetColumns = await columnsOf(conn, tables);
  await conn.unsafe(`lock table ${tables.map(quoteIdent).join(", ")} in access exclusive mode`);
  if (!force) {
    const held = await firstTableWithRows(
      runOn(conn),
      tables.filter((t) => !NON_DATA_TABLES.has(t)),
    );
    if (held !== null) throw HoldsDataError.forTable("the target database", held);
  }
  const history = await conn`select tag, sha256 from schema_migrations order by tag`;
  await conn.unsafe(`truncate ${tables.map(quoteIdent).join(", ")}`);
  return { targetColumns, history };
}

/** Streams each table's data into COPY ... FROM STDIN; returns the rows read per table. */
async function copyIntoTables(
  conn: Connection,
  events: AsyncIterable<ScriptEvent>,
  targetColumns: Map<string, Set<string>>,
  manifest: Manifest,
): Promise<Map<string, number>> {
  const loaded = new Map<string, number>();
  let copy: Writable | null = null;
  for await (const event of events) {
    if (event.kind === "header" && event.schemaVersion !== manifest.schemaVersion) {
      throw new Error(`the backup says schema ${event.schemaVersion}, its manifest ${manifest.schemaVersion}`);
    } else if (event.kind === "table") {
      copy = await startCopy(conn, event.table, event.columns, targetColumns, loaded);
    } else if (event.kind === "data") {
      if (!(copy as Writable).write(event.bytes)) await once(copy as Writable, "drain");
    } else if (event.kind === "end") {
      (copy as Writable).end();
      await finished(copy as Writable);
      copy = null;
      loaded.set(event.table, event.rows);
    }
  }
  return loaded;
}

/** Row counts against the manifest, and the restored migration history against the one just applied. */
async function checkLoaded(
  conn: Connection,
  manifest: Manifest,
  loaded: Map<string, number>,
  history: History,
): Promise<void> {
  for (const table of Object.keys(manifest.tables)) {
    const [row] = await conn.unsafe(`select count(*)::text as n from ${quoteIdent(table)}`);
    const count = Number(row?.n);
    if (!loaded.has(table) || count !== manifest.tables[table]) {
      throw new Error(`table ${table} has ${count} rows after loading, the manifest says ${manifest.tables[table]}`);
    }
  }
  const restored = await conn`select tag, sha256 from schema_migrations order by tag`;
  if (JSON.stringify(restored) !== JSON.stringify(history)) {
    throw new Error("the backup's migration history does not match the migrations of this minitwit; rolled back");
  }
}

/** Passes bytes through while hashing them. */
function hashing(source: AsyncIterable<Uint8Array>) {
  const hasher = new Bun.CryptoHasher("sha256");
  let size = 0;
  async function* bytes(): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      hasher.update(chunk);
      size += chunk.length;
      yield chunk;
    }
  }
  return { bytes: bytes(), sha256: () => hasher.digest("hex"), size: () => size };
}

async function startCopy(
  conn: Connection,
  table: string,
  columns: string[],
  targetColumns: Map<string, Set<string>>,
  loaded: Map<string, number>,
): Promise<Writable> {
  const known = targetColumns.get(table);
  if (known === undefined || loaded.has(table)) {
    throw new Error(`the backup holds table ${table}, which its manifest does not list or lists once`);
  }
  const unknown = columns.filter((c) => !known.has(c));
  if (unknown.length > 0) throw new Error(`table ${table} in the target has no column ${unknown.join(", ")}`);
  const list = columns.map(quoteIdent).join(", ");
  return (await conn.unsafe(`copy ${quoteIdent(table)} (${list}) from stdin`).writable()) as Writable;
}

/** The target's columns of each table the manifest lists; every one of them must exist. */
async function columnsOf(conn: Connection, tables: string[]): Promise<Map<string, Set<string>>> {
  const found = await conn<{ table_name: string; column_name: string }[]>`
    select table_name, column_name from information_schema.columns
    where table_schema = current_schema() and table_name in ${conn(tables)}`;
  const columns = new Map<string, Set<string>>();
  for (const { table_name, column_name } of found) {
    columns.set(table_name, (columns.get(table_name) ?? new Set()).add(column_name));
  }
  const missing = tables.filter((t) => !columns.has(t));
  if (missing.length > 0) throw new Error(`the target database has no table ${missing.join(", ")}`);
  return columns;
}
