// `minitwit backup`: one consistent snapshot of every table of the schema,
// streamed from Postgres to S3 without ever holding the dump in memory:
//
//   COPY ... TO STDOUT (one table after another, one transaction)
//     -> container framing (backup-format.ts) -> gzip -> [AES-256-GCM frames]
//     -> SHA-256 and size -> S3 multipart upload
//
// All tables are read in one REPEATABLE READ, READ ONLY, DEFERRABLE
// transaction, so the backup is one point in time: writes that commit while
// it runs are either wholly in it or wholly absent, and no message can
// appear without its author. The manifest is written only after the payload
// upload succeeded, and retention runs only after that.
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import type postgres from "postgres";
import type { Config } from "../config";
import { connectAdmin, quoteIdent } from "../postgres-admin";
import { backupKey, keyDatabaseName, type Manifest, manifestKeyFor, pruneBackups } from "./catalog";
import { ENCRYPTION_SCHEME, encryptStream } from "./crypto";
import { encodeContainer, loadOrder, type Reference, type TableSource } from "./format";
import { objectUrl, requireS3, uploadStream, writeText } from "./s3";

export interface BackupOptions {
  /** Delete backups of this database older than this many days once the upload succeeded. */
  readonly keepDays?: number | null;
  /** The clock; tests pass a fixed one to make keys and retention predictable. */
  readonly now?: () => Date;
}

export interface BackupResult {
  readonly key: string;
  readonly location: string;
  readonly manifest: Manifest;
  readonly durationSeconds: number;
  /** Keys deleted by retention. */
  readonly deleted: string[];
}

type Connection = postgres.ReservedSql;

export async function runBackup(config: Config, options: BackupOptions = {}): Promise<BackupResult> {
  const url = requirePostgres(config, "backup");
  const store = requireS3(config);
  const now = options.now ?? (() => new Date());
  const started = performance.now();
  const createdAt = now();
  const database = keyDatabaseName(databaseName(url));
  const key = backupKey(store.prefix, database, createdAt);
  const sql = await connectAdmin(url, "minitwit-backup", "cannot reach the database");
  let failed = true;
  try {
    const conn = await sql.reserve();
    await conn.unsafe("begin isolation level repeatable read, read only, deferrable");
    const schemaVersion = await readSchemaVersion(conn);
    const sources = await tableSources(conn);
    const encryptionKey = config.backupEncryptionKey;
    const { rows, uploaded } = await streamSnapshot(sources, encryptionKey, (payload) =>
      uploadStream(store, key, payload, "application/gzip"),
    );
    await conn.unsafe("commit");
    conn.release();
    const manifest: Manifest = {
      format: "minitwit-backup",
      formatVersion: 1,
      key,
      database,
      schemaVersion,
      tables: Object.fromEntries(sources.map((t) => [t.table, rows.get(t.table) ?? 0])),
      sha256: uploaded.sha256,
      size: uploaded.size,
      createdAt: createdAt.toISOString(),
      compression: "gzip",
      encrypted: encryptionKey !== null,
      encryption: encryptionKey === null ? null : ENCRYPTION_SCHEME,
    };
    await writeText(store, manifestKeyFor(key), `${JSON.stringify(manifest, null, 2)}\n`, "application/json");
    const deleted = options.keepDays == null ? [] : await pruneBackups(store, database, options.keepDays, now());
    failed = false;
    return {
      key,
      location: objectUrl(store, key),
      manifest,
      durationSeconds: (performance.now() - started) / 1000,
      deleted,
    };
  } finally {
    // After a failure the connection may be mid-COPY: drop it (the server
    // rolls the read-only transaction back) instead of waiting on it.
    await sql.end({ timeout: failed ? 0 : 5 });
  }
}

/**
 * Dumps the tables through gzip (and encryption) into `upload`, returning
 * each table's row count and what `upload` returned. A failure on either
 * side stops both, and the error reported is the cause, not the broken
 * stream it left on the other side.
 */
async function streamSnapshot<T>(
  sources: readonly TableSource[],
  encryptionKey: Uint8Array | null,
  upload: (payload: AsyncIterable<Uint8Array>) => Promise<T>,
): Promise<{ rows: Map<string, number>; uploaded: T }> {
  const rows = new Map<string, number>();
  let dumpError: unknown = null;
  async function* dump(): AsyncGenerator<Uint8Array> {
    try {
      yield* encodeContainer(sources, (table, count) => rows.set(table, count));
    } catch (err) {
      dumpError = err;
      throw err;
    }
  }
  const gzip = createGzip();
  const dumped = pipeline(Readable.from(dump()), gzip).catch(() => {});
  const payload = encryptionKey === null ? gzip : encryptStream(gzip, encryptionKey);
  const uploaded = await upload(payload).catch(async (err) => {
    gzip.destroy();
    await dumped;
    throw dumpError ?? err;
  });
  await dumped;
  if (dumpError !== null) throw dumpError;
  return { rows, uploaded };
}

/** The Postgres URL; backups and restores do not work on the embedded database. */
export function requirePostgres(config: Config, command: string): string {
  if (config.databaseUrl !== null) return config.databaseUrl;
  throw new Error(
    `${command} needs PostgreSQL: set DATABASE_URL or --database-url. The embedded database (DATA_DIR) ` +
      "cannot be backed up or restored with this command; stop minitwit and copy DATA_DIR instead",
  );
}

/** The database name a URL points at (postgres.js defaults it to the user name). */
export function databaseName(url: string): string {
  const parsed = new URL(url);
  return decodeURIComponent(parsed.pathname.slice(1)) || decodeURIComponent(parsed.username) || "postgres";
}

async function readSchemaVersion(conn: Connection): Promise<string> {
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
async function tableSources(conn: Connection): Promise<TableSource[]> {
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
    const list = names.map(quoteIdent).join(", ");
    return {
      table,
      columns: names,
      open: async () => {
        const copy = (await conn.unsafe(`copy ${quoteIdent(table)} (${list}) to stdout`).readable()) as Readable;
        // postgres.js pauses the socket when the COPY stream is full and resumes it only from the
        // stream's read(); when the COPY ends while the stream is full, the socket stays paused and
        // the next query on the connection never gets its reply (postgres.js issue #499). Resuming
        // it once the data has been read, as read() would, keeps the connection usable.
        copy.once("end", () => (copy as unknown as { _read(): void })._read());
        return copy;
      },
    };
  });
}
