// fold_username() (migration 0005), the one folding of usernames that the
// uniqueness index and the sign-in throttle share: NFKC, then full Unicode
// case folding (CaseFolding.txt's C and F entries, here as packaged by
// unicode-case-folding), then NFKC again, for every code point. And the
// migration on a database that already holds names folding alike (issue 31,
// attack 7): it applies, renames nobody, and lists them.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { caseFold } from "unicode-case-folding";
import { embeddedMigrations } from "../../db/migrations";
import * as schema from "../../db/schema";
import { applyMigrations } from "../../src/database/migrate";
import type { Db } from "../../src/database/open";
import { freshDatabase } from "../support/postgres";

let sql: postgres.Sql;
const warnings: string[] = [];
beforeAll(async () => {
  sql = postgres(await freshDatabase(), { max: 1, onnotice: (n) => warnings.push(`${n.severity}: ${n.message}`) });
});
afterAll(() => sql.end());

const db = () => drizzle(sql, { schema }) as unknown as Db;
const expected = (name: string) => caseFold(name.normalize("NFKC")).normalize("NFKC");

describe("fold_username", () => {
  beforeAll(async () => {
    await applyMigrations(db());
  });

  test("equals NFKC, full case folding and NFKC for every code point that it changes or should", async () => {
    const changed = await sql<{ cp: number; folded: string }[]>`
      select cp, folded from generate_series(1, 1114111) as cp, fold_username(chr(cp)) as folded
      where cp not between 55296 and 57343 and folded <> chr(cp)`;
    const byDatabase = new Map(changed.map((r) => [r.cp, r.folded]));
    const mismatches: number[] = [];
    for (let cp = 1; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const char = String.fromCodePoint(cp);
      if ((byDatabase.get(cp) ?? char) !== expected(char)) mismatches.push(cp);
    }
    // A character newer than PostgreSQL's Unicode tables (U+A7F1, Unicode 17)
    // is one that its NFKC leaves alone and Bun's does not: not ours to fold.
    const nfkc = await sql<{ cp: number; n: string }[]>`
      select cp, normalize(chr(cp), NFKC) as n from unnest(${mismatches}::int[]) as cp`;
    const ours = nfkc.filter((r) => r.n === String.fromCodePoint(r.cp).normalize("NFKC"));
    expect(ours.map((r) => `U+${r.cp.toString(16)}`)).toEqual([]);
    expect(mismatches.length).toBeLessThan(20);
    expect(byDatabase.size).toBeGreaterThan(5000);
  }, 120_000);

  test.each([
    ["the Greek final sigma", ["οδος", "ΟΔΟΣ", "οδοσ"], "οδοσ"],
    ["accented Greek", ["Νίκος", "ΝΊΚΟΣ"], "νίκοσ"],
    ["the German sharp s", ["Straße", "STRASSE", "strasse", "STRAẞE"], "strasse"],
    ["the Turkish dotted I", ["İstanbul", "i̇stanbul"], "i̇stanbul"],
    ["fullwidth, mathematical and ligature letters", ["ａｌｉｃｅ", "𝖺lice", "ALICE", "Alice"], "alice"],
    ["a ligature", ["ﬁona", "FIONA"], "fiona"],
    ["Cherokee", ["Ꭰ", "ꭰ"], "Ꭰ"],
  ])("%s", async (_, names, folded) => {
    const rows = await sql<{ folded: string }[]>`select fold_username(n) as folded from unnest(${names}::text[]) as n`;
    expect(rows.map((r) => r.folded)).toEqual(names.map(() => folded));
    for (const name of names) expect(expected(name)).toBe(folded);
  });
});

describe("migration 0005 on a database that already holds names folding alike", () => {
  test("applies, renames nobody, marks every twin but the oldest, and lists them", async () => {
    const client = postgres(await freshDatabase(), { max: 1, onnotice: (n) => warnings.push(String(n.message)) });
    const older = drizzle(client, { schema }) as unknown as Db;
    await applyMigrations(
      older,
      embeddedMigrations().filter((m) => m.tag < "0005"),
    );
    const names = ["οδος", "bob", "ΟΔΟΣ", "Νίκος", "ΝΊΚΟΣ", "ａｌｉｃｅ", "alice", "Straße", "STRASSE"];
    for (const name of names) await client`insert into users (username, email, pw_hash) values (${name}, 'x@x', 'x')`;

    expect((await applyMigrations(older)).applied).toEqual(["0005_username_folding"]);
    const users = await client`select username, username_twin from users order by user_id`;
    expect(users.map((u) => u.username)).toEqual(names);
    expect(users.filter((u) => u.username_twin).map((u) => u.username)).toEqual(["ΟΔΟΣ", "ΝΊΚΟΣ", "alice", "STRASSE"]);
    expect(await client`select username, twin_of from username_twins order by user_id`).toEqual([
      { username: "ΟΔΟΣ", twin_of: "οδος" },
      { username: "ΝΊΚΟΣ", twin_of: "Νίκος" },
      { username: "alice", twin_of: "ａｌｉｃｅ" },
      { username: "STRASSE", twin_of: "Straße" },
    ] as never);
    expect(warnings.join("\n")).toContain(
      "usernames registered before this migration that fold like an older one keep working: ΟΔΟΣ (id 3) folds like οδος (id 1);",
    );

    // No new twin: the holder's folded name is unique.
    await expect(client`insert into users (username, email, pw_hash) values ('Οδος', 'x@x', 'x')`).rejects.toThrow(
      /users_username_folded_key/,
    );
    await client.end();
  });
});
