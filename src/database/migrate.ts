// Applies the embedded migrations. All pending migrations run in one
// transaction that first takes a transaction-scoped advisory lock, so replicas
// starting together queue up instead of racing, and a failure leaves the
// schema exactly as it was. Applied migrations are recorded with a hash of
// their SQL; an edited migration is refused rather than silently skipped.
import { sql } from "drizzle-orm";
import { embeddedMigrations, type Migration } from "../../db/migrations";
import { MIGRATION_LOCK_ID } from "./locks";
import type { Db } from "./open";
import { rows } from "./queries";

/**
 * The table that records applied migrations. A backup script creates it with
 * this same statement, so `minitwit migrate` on a restored database knows
 * where it stands.
 */
export const SCHEMA_MIGRATIONS_DDL = `create table if not exists schema_migrations (
  tag text primary key,
  sha256 text not null,
  applied_at timestamptz not null default now()
)`;

export interface MigrationResult {
  readonly applied: string[];
  readonly version: string;
}

export async function applyMigrations(
  db: Db,
  migrations: Migration[] = embeddedMigrations(),
): Promise<MigrationResult> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_ID})`);
    await tx.execute(sql.raw(SCHEMA_MIGRATIONS_DDL));
    const done = new Map(
      (await rows<{ tag: string; sha256: string }>(tx, sql`select tag, sha256 from schema_migrations`)).map((r) => [
        r.tag,
        r.sha256,
      ]),
    );
    const applied: string[] = [];
    for (const migration of migrations) {
      const hash = migrationHash(migration);
      const seen = done.get(migration.tag);
      if (seen !== undefined) {
        if (seen !== hash) throw new Error(`migration ${migration.tag} was changed after it was applied`);
        continue;
      }
      for (const statement of migrationStatements(migration)) {
        await tx.execute(sql.raw(statement)).catch((err: unknown) => {
          throw migrationFailed(migration.tag, err);
        });
      }
      await tx.execute(sql`insert into schema_migrations (tag, sha256) values (${migration.tag}, ${hash})`);
      applied.push(migration.tag);
    }
    const known = new Set(migrations.map((m) => m.tag));
    const unknown = [...done.keys()].filter((tag) => !known.has(tag));
    if (unknown.length > 0) {
      // A newer release migrated this database; running on is safe (migrations
      // are backwards compatible) but worth knowing.
      return { applied, version: unknown.sort().at(-1) as string };
    }
    return { applied, version: migrations.at(-1)?.tag ?? "none" };
  });
}

/** A migration's SQL statements, in order, as drizzle-kit separates them. */
export function migrationStatements(migration: Migration): string[] {
  return migration.sql
    .split("--> statement-breakpoint")
    .map((statement) => statement.trim())
    .filter((statement) => statement !== "");
}

/** The migrations not yet applied; empty when the schema is current. */
export async function pendingMigrations(db: Db, migrations: Migration[] = embeddedMigrations()): Promise<string[]> {
  const exists = await rows<{ present: boolean }>(
    db,
    sql`select to_regclass('schema_migrations') is not null as present`,
  );
  if (!exists[0]?.present) return migrations.map((m) => m.tag);
  const done = new Set((await rows<{ tag: string }>(db, sql`select tag from schema_migrations`)).map((r) => r.tag));
  return migrations.filter((m) => !done.has(m.tag)).map((m) => m.tag);
}

/** What schema_migrations records of a migration: the sha256 of its SQL, in hex. */
export function migrationHash(migration: Migration): string {
  return new Bun.CryptoHasher("sha256").update(migration.sql).digest("hex");
}

/** PostgreSQL's own words (and hint) rather than the driver's "Failed query: <the whole migration>". */
function migrationFailed(tag: string, err: unknown): Error {
  const reason = ((err as { cause?: unknown })?.cause ?? err) as { message?: string; hint?: string };
  const hint = reason?.hint ? `. ${reason.hint}` : "";
  return new Error(`migration ${tag} failed: ${reason?.message ?? String(err)}${hint}`, { cause: err });
}
