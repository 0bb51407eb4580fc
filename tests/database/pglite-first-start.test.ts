// The embedded database's first start unpacks the data directory MiniTwit
// ships (db/pglite-datadir.tar.gz) instead of running initdb, with the
// migrations of its day already applied. The database that results must be
// the one initdb of the pinned PGlite creates: same catalogs, and after the
// migrations the same schema and migrations table.
// If this fails after a PGlite upgrade: `bun run generate:pglite-datadir`.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { embeddedMigrations } from "../../db/migrations";
import { migrationHash } from "../../src/database/migrate";
import { unpackInitialisedDataDir } from "../../src/database/pglite-datadir";
import { initdbDataDir } from "../../tools/generate-pglite-datadir";
import { runMinitwit } from "../support/cli";

const scratch = mkdtempSync(join(tmpdir(), "minitwit-first-start-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** DATA_DIRs: one initialised by initdb, as before; two by `minitwit migrate`'s first start. */
const dataDirs = { initdb: join(scratch, "initdb"), shipped: join(scratch, "shipped"), again: join(scratch, "again") };
/** What `minitwit migrate` printed on each DATA_DIR. */
const migrated: Record<string, string> = {};
/** When the first start of the shipped DATA_DIR began, in ms since the epoch. */
let shippedStartedAt = 0;

async function migrate(dataDir: string): Promise<string> {
  const result = await runMinitwit(["migrate"], { DATA_DIR: dataDir, LOG_LEVEL: "silent" });
  if (result.code !== 0) throw new Error(`migrate failed: ${result.stderr}`);
  return result.stdout;
}

beforeAll(async () => {
  mkdirSync(dataDirs.initdb);
  await initdbDataDir(dataDirs.initdb);
  for (const [name, dir] of Object.entries(dataDirs)) {
    if (name === "shipped") shippedStartedAt = Date.now();
    migrated[name] = await migrate(dir);
  }
}, 180_000);

/** Runs queries on the embedded database of a DATA_DIR, in this process, once no server holds it. */
async function query<T>(dataDir: string, run: (pg: PGlite) => Promise<T>): Promise<T> {
  const pg = await PGlite.create({ dataDir: join(dataDir, "pglite") });
  try {
    return await run(pg);
  } finally {
    await pg.close();
  }
}

// pg_dump-like: what the catalogs hold, by name, for the whole cluster and
// for MiniTwit's own schema.
const CATALOG_QUERIES = {
  databases: "select datname, encoding, datcollate, datctype, datallowconn from pg_database order by 1",
  roles: "select rolname, rolsuper, rolcanlogin from pg_roles order by 1",
  relations: `select n.nspname, c.relname, c.relkind, c.relpersistence from pg_class c
    join pg_namespace n on n.oid = c.relnamespace order by 1, 2`,
  functions: `select count(*)::int as n, count(distinct p.proname)::int as names from pg_proc p`,
  columns: `select table_name, column_name, data_type, is_nullable, column_default
    from information_schema.columns where table_schema = 'public' order by 1, ordinal_position`,
  indexes: "select tablename, indexname, indexdef from pg_indexes where schemaname = 'public' order by 1, 2",
  constraints: `select conrelid::regclass::text as tbl, conname, pg_get_constraintdef(oid) as def
    from pg_constraint where connamespace = 'public'::regnamespace order by 1, 2`,
  settings: "select name, setting from pg_settings where source not in ('default', 'override') order by 1",
  migrations: "select tag, sha256 from schema_migrations order by tag",
} as const;

async function catalog(dataDir: string): Promise<Record<string, unknown[]>> {
  return query(dataDir, async (pg) => {
    const snapshot: Record<string, unknown[]> = {};
    for (const [name, text] of Object.entries(CATALOG_QUERIES)) snapshot[name] = (await pg.query(text)).rows;
    return snapshot;
  });
}

const systemIdentifier = (dataDir: string) =>
  query(dataDir, async (pg) => {
    const result = await pg.query<{ id: string }>("select system_identifier::text as id from pg_control_system()");
    return result.rows[0]?.id;
  });

test("a first start unpacks the shipped database instead of running initdb", async () => {
  // initdb draws a new system identifier each time; the shipped directory has one.
  const shipped = await systemIdentifier(dataDirs.shipped);
  expect(shipped).toMatch(/^\d+$/);
  const [again, initdb] = await Promise.all([systemIdentifier(dataDirs.again), systemIdentifier(dataDirs.initdb)]);
  expect(shipped).toBe(again);
  expect(shipped).not.toBe(initdb);
}, 60_000);

test("the shipped database equals the one initdb creates: catalogs, schema, migrations table", async () => {
  const expected = await catalog(dataDirs.initdb);
  expect(expected.migrations?.length).toBeGreaterThan(0);
  expect(expected.constraints?.length).toBeGreaterThan(0);
  expect(await catalog(dataDirs.shipped)).toEqual(expected);
}, 60_000);

test("the shipped database holds the migrations of its day, so a first start applies only newer ones", async () => {
  const tarball = join(scratch, "tarball-only");
  await unpackInitialisedDataDir(join(tarball, "pglite"));
  const shipped = await query(tarball, async (pg) => {
    const result = await pg.query<{ tag: string; sha256: string }>(
      "select tag, sha256 from schema_migrations order by tag",
    );
    return result.rows;
  });
  // Each shipped migration is today's file, unchanged, and they are today's first ones.
  const today = embeddedMigrations().map((m) => ({ tag: m.tag, sha256: migrationHash(m) }));
  expect(shipped.length).toBeGreaterThan(0);
  expect(shipped).toEqual(today.slice(0, shipped.length));
  // The first start applies what is newer than the file, and nothing when nothing is.
  const newer = today.slice(shipped.length).map((m) => m.tag);
  expect(migrated.shipped).toStartWith(newer.length === 0 ? "schema is current" : `applied ${newer.join(", ")};`);
  expect(migrated.initdb).toStartWith(`applied ${today.map((m) => m.tag).join(", ")};`);
}, 60_000);

test("the shipped migrations are recorded as applied at the first start, not the day the file was made", async () => {
  const applied = await query(dataDirs.shipped, async (pg) => {
    const result = await pg.query<{ tag: string; at: number }>(
      "select tag, extract(epoch from applied_at)::float8 * 1000 as at from schema_migrations order by tag",
    );
    return result.rows;
  });
  expect(applied.length).toBeGreaterThan(0);
  // PGlite's clock is the process's; a second's leeway for rounding.
  const late = applied.filter((row) => row.at < shippedStartedAt - 1_000 || row.at > Date.now() + 1_000);
  expect(late).toEqual([]);
}, 60_000);

test("the shipped database keeps its data across a second start", async () => {
  await query(dataDirs.shipped, (pg) =>
    pg.query("insert into users (username, email, pw_hash) values ('kept', 'kept@example.com', 'x')"),
  );
  expect(await migrate(dataDirs.shipped)).toContain("schema is current");
  const users = await query(dataDirs.shipped, (pg) => pg.query("select username from users"));
  expect(users.rows).toEqual([{ username: "kept" }]);
}, 60_000);

test("a directory that already holds files is left to PGlite, and a half unpacked one is replaced", async () => {
  const holdsFiles = join(scratch, "holds-files");
  mkdirSync(holdsFiles);
  writeFileSync(join(holdsFiles, "note"), "not a database");
  expect(await unpackInitialisedDataDir(holdsFiles)).toBe(false);
  expect(readdirSync(holdsFiles)).toEqual(["note"]);

  const target = join(scratch, "unpack", "pglite");
  mkdirSync(`${target}.unpacking`, { recursive: true });
  writeFileSync(join(`${target}.unpacking`, "PG_VERSION"), "a killed start");
  expect(await unpackInitialisedDataDir(target)).toBe(true);
  expect(readdirSync(join(target, "..")).sort()).toEqual(["pglite"]);
  expect(await Bun.file(join(target, "PG_VERSION")).text()).toMatch(/^\d+\n$/);
});
