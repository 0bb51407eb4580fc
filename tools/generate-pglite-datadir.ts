#!/usr/bin/env bun
// `bun run generate:pglite-datadir`: writes db/pglite-datadir.tar.gz, the
// data directory that initdb of the installed PGlite creates, with the
// migrations of the day applied, which the embedded database unpacks on its
// first start (src/database/pglite-datadir.ts). Run it after upgrading
// @electric-sql/pglite and commit the result; tests/database/pglite-first-start.test.ts
// fails until then if initdb's output changed. A migration added later needs
// no new file: a first start applies it as any start applies a pending one.
//
// The tar comes from the system's tar, which keeps the empty directories
// PostgreSQL needs (pg_notify, pg_tblspc, ...) with their modes.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { drizzle } from "drizzle-orm/pglite";
import * as schema from "../db/schema";
import { applyMigrations } from "../src/database/migrate";
import type { Db } from "../src/database/open";

const OUTPUT = join(import.meta.dir, "..", "db", "pglite-datadir.tar.gz");
// The highest level: compressing happens once, here; unpacking costs the same.
const GZIP_LEVEL = 12;

/** Runs initdb into a new directory and shuts down cleanly; returns the directory. */
export async function initdbDataDir(parent: string): Promise<string> {
  const dir = join(parent, "pglite");
  const pg = await PGlite.create({ dataDir: dir });
  await pg.close();
  return dir;
}

/** initdb, then the migrations; shut down cleanly. Returns the directory and the migrations applied. */
async function migratedDataDir(parent: string): Promise<{ dir: string; applied: string[] }> {
  const dir = await initdbDataDir(parent);
  const pg = await PGlite.create({ dataDir: dir });
  try {
    const { applied } = await applyMigrations(drizzle(pg, { schema }) as unknown as Db);
    return { dir, applied };
  } finally {
    await pg.close();
  }
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), "minitwit-initdb-"));
  try {
    const { dir, applied } = await migratedDataDir(scratch);
    console.log(`initdb, then the migrations ${applied.join(", ")}`);
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
