// Migrations: embedded, idempotent, safe when replicas start together, and an
// edited migration is refused.
import { expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { embeddedMigrations, embeddedTags } from "../../db/migrations";
import journal from "../../db/migrations/meta/_journal.json";
import * as schema from "../../db/schema";
import { applyMigrations, pendingMigrations } from "../../src/database/migrate";
import type { Db } from "../../src/database/open";
import { freshDatabase } from "../support/postgres";

async function connect(url: string) {
  const client = postgres(url, { max: 2, onnotice: () => {} });
  return { db: drizzle(client, { schema }) as unknown as Db, client };
}

test("every SQL file drizzle-kit wrote is in the journal and embedded in the binary", () => {
  const files = readdirSync(join(import.meta.dir, "..", "..", "db", "migrations"))
    .filter((f) => f.endsWith(".sql"))
    .map((f) => f.replace(/\.sql$/, ""));
  expect(journal.entries.map((e) => e.tag).sort()).toEqual(files.sort());
  expect(embeddedTags().sort()).toEqual(files.sort());
  expect(embeddedMigrations().every((m) => m.sql.includes("CREATE TABLE") || m.sql.length > 0)).toBe(true);
});

test("three processes migrating one database at once apply each migration exactly once", async () => {
  const url = await freshDatabase();
  const conns = await Promise.all([connect(url), connect(url), connect(url)]);
  const results = await Promise.all(conns.map(({ db }) => applyMigrations(db)));
  const appliedCounts = results.map((r) => r.applied.length).sort();
  expect(appliedCounts).toEqual([0, 0, embeddedMigrations().length]);
  const { db, client } = conns[0] as (typeof conns)[number];
  expect(await pendingMigrations(db)).toEqual([]);
  const recorded = await client`select tag from schema_migrations order by tag`;
  expect(recorded.map((r) => r.tag)).toEqual(embeddedMigrations().map((m) => m.tag));
  expect((await applyMigrations(db)).applied).toEqual([]);
  await Promise.all(conns.map(({ client }) => client.end()));
});

test("the schema keeps its constraints: unique usernames, (who, whom) key, foreign keys", async () => {
  const url = await freshDatabase();
  const { db, client } = await connect(url);
  await applyMigrations(db);
  await client`insert into users (username, email, pw_hash) values ('a', 'a@a', 'x'), ('b', 'b@b', 'x')`;
  await expect(client`insert into users (username, email, pw_hash) values ('a', 'c@c', 'x')`).rejects.toThrow(/unique/);
  await client`insert into followers values (1, 2)`;
  await expect(client`insert into followers values (1, 2)`).rejects.toThrow(/duplicate key/);
  await expect(client`insert into followers values (1, 99)`).rejects.toThrow(/foreign key/);
  await expect(client`insert into messages (author_id, text, pub_date) values (99, 'x', 0)`).rejects.toThrow(
    /foreign key/,
  );
  await client.end();
});

test("a migration edited after it was applied is refused, and nothing changes", async () => {
  const url = await freshDatabase();
  const { db, client } = await connect(url);
  await applyMigrations(db);
  const edited = embeddedMigrations().map((m, i) => (i === 0 ? { ...m, sql: `${m.sql}\n-- edited` } : m));
  await expect(applyMigrations(db, edited)).rejects.toThrow(/changed after it was applied/);
  const added = [...embeddedMigrations(), { tag: "9999_next", sql: "create table later (id int)" }];
  expect(await pendingMigrations(db, added)).toEqual(["9999_next"]);
  await client.end();
});
