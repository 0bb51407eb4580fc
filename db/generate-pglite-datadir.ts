#!/usr/bin/env bun
// `bun run generate:pglite-datadir`: writes db/pglite-datadir.tar.gz, the
// data directory that initdb of the installed PGlite creates, which the
// embedded database unpacks on its first start (src/pglite-datadir.ts).
// Run it after upgrading @electric-sql/pglite and commit the result;
// tests/pglite-first-start.test.ts fails until then if initdb's output changed.
//
// The tar comes from the system's tar, which keeps the empty directories
// PostgreSQL needs (pg_notify, pg_tblspc, ...) with their modes.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";

const OUTPUT = join(import.meta.dir, "pglite-datadir.tar.gz");
// The highest level: compressing happens once, here; unpacking costs the same.
const GZIP_LEVEL = 12;

/** Runs initdb into a new directory and shuts down cleanly; returns the directory. */
export async function initdbDataDir(parent: string): Promise<string> {
  const dir = join(parent, "pglite");
  const pg = await PGlite.create({ dataDir: dir });
  await pg.close();
  return dir;
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), "minitwit-initdb-"));
  try {
    const dir = await initdbDataDir(scratch);
    const tar = Bun.spawnSync(["tar", "-C", dir, "-cf", "-", "."], { stderr: "inherit" });
    if (tar.exitCode !== 0) throw new Error(`tar exited with ${tar.exitCode}`);
    const compressed = await new Bun.Archive(tar.stdout, { compress: "gzip", level: GZIP_LEVEL }).bytes();
    await Bun.write(OUTPUT, compressed);
    console.log(`wrote ${OUTPUT}: ${tar.stdout.length} bytes of tar, ${compressed.length} compressed`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (import.meta.main) await main();
