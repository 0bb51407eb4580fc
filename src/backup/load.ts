// The loading half of a restore, in one transaction on one connection:
// lock and (with --force) empty the tables, stream the payload through
// hash -> decrypt -> gunzip -> container decoder into COPY ... FROM STDIN,
// then check everything before committing: the payload hash again, each
// table's row count against the manifest, the migration history, and move
// every sequence past the highest id so the next insert cannot collide.
// Any failure rolls the whole load back; the target is as it was.
import { once } from "node:events";
import { Readable, type Writable } from "node:stream";
import { finished, pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import type postgres from "postgres";
import { firstTableWithRows, HoldsDataError, moveSequencesPastRows, quoteIdent, runOn } from "../postgres-admin";
import type { Manifest } from "./catalog";
import { decryptStream } from "./crypto";
import { decodeContainer } from "./format";

/** Tables whose rows do not count as "the target holds data". */
export const NON_DATA_TABLES = new Set(["schema_migrations", "latest"]);

export interface LoadInput {
  readonly source: AsyncIterable<Uint8Array>;
  readonly manifest: Manifest;
  readonly encryptionKey: Uint8Array | null;
  readonly force: boolean;
}

type Connection = postgres.ReservedSql;

export async function loadBackup(sql: postgres.Sql, input: LoadInput): Promise<void> {
  const { manifest } = input;
  const tables = Object.keys(manifest.tables);
  const conn = await sql.reserve();
  await conn.unsafe("begin");
  const targetColumns = await columnsOf(conn, tables);
  await conn.unsafe(`lock table ${tables.map(quoteIdent).join(", ")} in access exclusive mode`);
  if (!input.force) {
    const held = await firstTableWithRows(
      runOn(conn),
      tables.filter((t) => !NON_DATA_TABLES.has(t)),
    );
    if (held !== null) throw HoldsDataError.forTable("the target database", held);
  }
  const history = await conn`select tag, sha256 from schema_migrations order by tag`;
  await conn.unsafe(`truncate ${tables.map(quoteIdent).join(", ")}`);

  const hasher = new Bun.CryptoHasher("sha256");
  let size = 0;
  async function* hashed(): AsyncGenerator<Uint8Array> {
    for await (const chunk of input.source) {
      hasher.update(chunk);
      size += chunk.length;
      yield chunk;
    }
  }
  // The first error of the download or decryption, kept because gunzip and the
  // decoder only see a broken stream; it is the cause worth reporting.
  let sourceError: unknown = null;
  async function* compressed(): AsyncGenerator<Uint8Array> {
    try {
      yield* input.encryptionKey === null ? hashed() : decryptStream(hashed(), input.encryptionKey);
    } catch (err) {
      sourceError = err;
      throw err;
    }
  }
  const gunzip = createGunzip();
  const unpacked = pipeline(Readable.from(compressed()), gunzip).catch(() => {});
  const loaded = new Map<string, number>();
  let copy: Writable | null = null;
  try {
    for await (const event of decodeContainer(gunzip)) {
      if (event.kind === "table") {
        copy = await startCopy(conn, event.table, event.columns, targetColumns, loaded);
      } else if (event.kind === "data") {
        if (!(copy as Writable).write(event.bytes)) await once(copy as Writable, "drain");
      } else {
        (copy as Writable).end();
        await finished(copy as Writable);
        copy = null;
        loaded.set(event.table, event.rows);
      }
    }
  } catch (err) {
    gunzip.destroy();
    await unpacked;
    throw sourceError ?? damaged(err);
  }
  await unpacked;

  if (hasher.digest("hex") !== manifest.sha256 || size !== manifest.size) {
    throw new Error("the backup object changed while it was being restored (checksum mismatch); rolled back");
  }
  for (const table of tables) {
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
  await moveSequencesPastRows(runOn(conn), tables);
  await conn.unsafe("commit");
  conn.release();
}

/** zlib's terse errors ("incorrect header check") said in terms of the backup. */
function damaged(err: unknown): unknown {
  const { code, message } = err as { code?: unknown; message?: string };
  if (typeof code !== "string" || !code.startsWith("Z_")) return err;
  return new Error(`the backup's compressed data is damaged or cut short (${message}); rolled back`, { cause: err });
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
