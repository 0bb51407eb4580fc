// `minitwit restore`: picks a backup (from S3 or a local file, sources.ts),
// proves it is intact before touching the target, brings the target to the
// backup's schema version with the embedded migrations, and loads the data
// (load.ts) in one transaction.
import { drizzle } from "drizzle-orm/postgres-js";
import type postgres from "postgres";
import * as schema from "../../db/schema";
import type { Config } from "../config/settings";
import { connectAdmin, firstTableWithRows, HoldsDataError, runOn } from "../database/admin";
import { applyMigrations } from "../database/migrate";
import type { Db } from "../database/open";
import type { Manifest } from "./catalog";
import { migrationsUpTo, requirePostgres } from "./create";
import { loadBackup, NON_DATA_TABLES } from "./load";
import { type ChosenBackup, chooseBackup, type Which } from "./sources";

export type { Which } from "./sources";

export interface RestoreOptions {
  readonly which: Which;
  /** Replace the data of a target that already holds some. */
  readonly force: boolean;
}

export interface RestoreResult {
  readonly location: string;
  readonly manifest: Manifest;
  /** False for a local file without a manifest: only its own checks (gzip, age, trailer) vouched for it. */
  readonly hadManifest: boolean;
}

export async function runRestore(config: Config, options: RestoreOptions): Promise<RestoreResult> {
  const url = requirePostgres(config, "restore");
  const { which } = options;
  // The whole payload is verified before this returns: nothing touches the target before that.
  const backup = await chooseBackup(config, which);
  const { manifest, location } = backup;
  let migrations: ReturnType<typeof migrationsUpTo>;
  try {
    migrations = migrationsUpTo(manifest.schemaVersion);
  } catch (err) {
    throw new Error(`${location} has ${(err as Error).message}`, { cause: err });
  }
  const sql = await connectAdmin(url, "minitwit-restore", "cannot reach the database");
  let failed = true;
  try {
    await refuseIfHoldsData(sql, Object.keys(manifest.tables), options.force);
    const { version } = await applyMigrations(drizzle(sql, { schema }) as unknown as Db, migrations);
    if (version !== manifest.schemaVersion) {
      throw new Error(
        `the target database is at schema ${version}, newer than the backup's ${manifest.schemaVersion}; ` +
          "restore into an empty database",
      );
    }
    await load(sql, backup, options.force);
    failed = false;
    return { location, manifest, hadManifest: backup.hadManifest };
  } finally {
    // On failure the connection may be mid-COPY: dropping it rolls the load back.
    await sql.end({ timeout: failed ? 0 : 5 });
  }
}

function load(sql: postgres.Sql, backup: ChosenBackup, force: boolean): Promise<void> {
  return loadBackup(sql, {
    source: backup.open(),
    manifest: backup.manifest,
    decryption: backup.decryption,
    force,
  });
}

/** Checked before migrating, so a refused restore changes nothing; checked again under lock when loading. */
async function refuseIfHoldsData(sql: postgres.Sql, tables: string[], force: boolean): Promise<void> {
  if (force) return;
  const table = await firstTableWithRows(
    runOn(sql),
    tables.filter((t) => !NON_DATA_TABLES.has(t)),
  );
  if (table !== null) throw HoldsDataError.forTable("the target database", table);
}
