// The embedded database's first start. Running initdb means running a second
// PostgreSQL in WebAssembly next to the first one, which on a small machine
// costs more memory than everything MiniTwit does afterwards (figures in
// docs/performance.md, "The embedded database"). Instead MiniTwit ships the
// data directory that initdb of the pinned PGlite produces, with the
// migrations of its day applied, as a tarball, and unpacks it into an empty
// DATA_DIR/pglite before PGlite starts; PGlite then finds a database and
// starts as on any later day, and only migrations newer than the tarball run.
//
// The tarball is generated, never edited: `bun run generate:pglite-datadir`
// (tools/generate-pglite-datadir.ts) runs initdb through the installed PGlite
// and then the migrations, and tests/database/pglite-first-start.test.ts proves that
// a database unpacked from it equals one that initdb and the migrations create.
import { existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import initialisedDataDirPath from "../../db/pglite-datadir.tar.gz" with { type: "file" };

/**
 * Run once PGlite has opened a directory just unpacked: the shipped
 * migrations were applied the day the tarball was generated, but on this
 * machine they are applied at its first start, as `minitwit migrate` would
 * have recorded them. (A first start killed between unpacking and this
 * statement keeps the generation day; nothing depends on the date.)
 */
export const STAMP_SHIPPED_MIGRATIONS = "update schema_migrations set applied_at = now()";

/** Whether dir holds a database: initdb writes PG_VERSION, and PGlite checks for it too. */
export function holdsDatabase(dir: string): boolean {
  return existsSync(join(dir, "PG_VERSION"));
}

/**
 * Unpacks the initialised data directory into `dir` if there is no directory
 * yet (or an empty one). It is unpacked beside `dir` and renamed into place,
 * so a start that is killed half-way leaves no half database behind; the
 * caller holds the data directory's lock. Returns whether it unpacked.
 */
export async function unpackInitialisedDataDir(dir: string, tarball = initialisedDataDirPath): Promise<boolean> {
  if (existsSync(dir)) {
    if (readdirSync(dir).length > 0) return false;
    rmdirSync(dir);
  }
  const partial = `${dir}.unpacking`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  try {
    // gzip, which Bun.Archive unpacks as it reads, off the JavaScript thread
    // and without the whole tar in memory. zstd made a quarter of the file
    // but has to be decompressed in memory first, and that took longer than
    // compiling PGlite's engine, which the unpacking runs beside.
    await new Bun.Archive(await Bun.file(tarball).bytes()).extract(partial);
    if (!holdsDatabase(partial)) throw new Error(`${tarball} holds no PG_VERSION`);
    renameSync(partial, dir);
    return true;
  } catch (err) {
    rmSync(partial, { recursive: true, force: true });
    throw new Error(`could not unpack the initialised embedded database into ${dir}`, { cause: err });
  }
}
