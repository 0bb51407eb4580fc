// Look-alike accounts (issue 18, attack 6): names that pass for another one
// are refused with a message, uniqueness ignores case while a name keeps the
// case it was registered with, and migration 0004 stops on existing
// duplicates without touching them.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { embeddedMigrations } from "../../db/migrations";
import * as schema from "../../db/schema";
import { usernameProblem } from "../../src/accounts/usernames";
import { applyMigrations } from "../../src/database/migrate";
import type { Db } from "../../src/database/open";
import { freshDatabase } from "../support/postgres";
import { loadScenario } from "../support/scenario";
import { apiClient, startTestServer, type TestServer } from "../support/server";
import { errorOf, webClient } from "../support/web-client";

const TAKEN = "The username is already taken";
const SPACES = "The username cannot begin or end with a space";
const INVISIBLE = "The username cannot contain control, invisible or direction characters";
const MIXED = "The username cannot mix letters of different scripts";

let server: TestServer;
let sql: postgres.Sql;
beforeAll(async () => {
  server = await startTestServer("postgres", { RATE_LIMIT_PER_SECOND: "0" });
  sql = postgres(server.config.databaseUrl as string, { max: 1, onnotice: () => {} });
  const api = apiClient(server.api);
  for (const username of ["alice", "José", "Roger Histand", "fiona", "kate"])
    expect((await api.post("/register", { username, email: "x@x.dk", pwd: "secret" })).status).toBe(204);
});
afterAll(async () => {
  await sql.end();
  await server.stop();
});

const names = async () => (await sql`select username from users order by user_id`).map((r) => r.username as string);

const LOOK_ALIKES: [string, string, string][] = [
  ["another case", "Alice", TAKEN],
  ["all capitals", "ALICE", TAKEN],
  ["a trailing space", "alice ", SPACES],
  ["a leading space", " alice", SPACES],
  ["a leading tab", "\talice", INVISIBLE],
  ["a no-break space inside", "ali\u00a0ce", INVISIBLE],
  ["two spaces inside", "Roger  Histand", "The username cannot contain two spaces in a row"],
  ["a Cyrillic а", "\u0430lice", MIXED],
  ["a Greek ο", "r\u03bfger", MIXED],
  ["a zero-width space", "\u200balice", INVISIBLE],
  ["a zero-width joiner", "al\u200dice", INVISIBLE],
  ["a word joiner", "alice\u2060", INVISIBLE],
  ["a byte-order mark", "\ufeffalice", INVISIBLE],
  ["a right-to-left override", "\u202eecila", INVISIBLE],
  ["a left-to-right isolate", "\u2066alice\u2069", INVISIBLE],
  ["a control character", "ali\u0007ce", INVISIBLE],
  ["the decomposed (NFD) form of a name", "Jose\u0301", TAKEN],
  // Issue 31, attack 8: default-ignorable code points, the Hangul fillers and the blank braille pattern.
  ["a combining grapheme joiner", "ali\u034fce", INVISIBLE],
  ["a Hangul choseong filler", "alice\u115f", INVISIBLE],
  ["a Hangul jungseong filler", "\u1160alice", INVISIBLE],
  ["a Hangul filler", "ali\u3164ce", INVISIBLE],
  ["a halfwidth Hangul filler", "alice\uffa0", INVISIBLE],
  ["a variation selector", "alice\ufe0f", INVISIBLE],
  ["the first variation selector", "a\ufe00lice", INVISIBLE],
  ["a supplementary variation selector", "alice\u{e0100}", INVISIBLE],
  ["a Khmer inherent vowel", "alice\u17b4", INVISIBLE],
  ["a blank braille pattern", "alice\u2800", INVISIBLE],
  ["a tag character", "alice\u{e0041}", INVISIBLE],
  ["an unassigned code point", "alice\u{50000}", INVISIBLE],
  ["a private-use character", "alice\ue000", INVISIBLE],
  // Issue 31, attack 9: look-alikes beyond Cyrillic and Greek, and compatibility forms.
  ["an Armenian օ", "b\u0585b", MIXED],
  ["fullwidth letters with an Armenian օ", "\uff42\u0585\uff42", MIXED],
  ["Latin with Cherokee", "\u13a0lice", MIXED],
  ["Cyrillic with Greek", "\u0434\u03bc", MIXED],
  ["Hangul with Hiragana", "\ud55c\u3042", MIXED],
  ["fullwidth letters", "\uff41\uff4c\uff49\uff43\uff45", TAKEN],
  ["a mathematical letter", "\u{1d5ba}lice", TAKEN],
  ["a ligature", "\ufb01ona", TAKEN],
  ["a Kelvin sign", "\u212aate", TAKEN],
];

describe.each([
  ["the API", "api"],
  ["the web form", "web"],
] as const)("through %s", (_, surface) => {
  test.each(LOOK_ALIKES)("a name with %s is refused", async (_, username, message) => {
    const before = await names();
    if (surface === "api") {
      const res = await apiClient(server.api).post("/register", { username, email: "e@x.dk", pwd: "p" });
      expect({ status: res.status, message: res.json.error_msg }).toEqual({ status: 400, message });
    } else {
      const page = await webClient(server.web).post("/register", {
        username,
        email: "e@x.dk",
        password: "p",
        password2: "p",
      });
      expect({ status: page.status, message: errorOf(page.body) }).toEqual({ status: 200, message });
    }
    expect(await names()).toEqual(before);
  });
});

test("a name keeps the case it was registered with, and exact lookups work as before", async () => {
  const api = apiClient(server.api);
  expect((await api.post("/register", { username: "MixedCase", email: "m@x.dk", pwd: "secret" })).status).toBe(204);
  expect((await api.post("/msgs/MixedCase", { content: "hello" })).status).toBe(204);
  expect((await api.get("/msgs/MixedCase")).json).toEqual([expect.objectContaining({ user: "MixedCase" })]);
  expect((await api.post("/register", { username: "mixedcase", email: "m@x.dk", pwd: "p" })).json.error_msg).toBe(
    TAKEN,
  );
  expect((await api.post("/msgs/Roger%20Histand", { content: "still here" })).status).toBe(204);
  const web = webClient(server.web);
  expect(errorOf((await web.login("MixedCase")).body)).toBeUndefined();
  expect((await web.get("/")).status).toBe(200);
});

test("names are stored NFC-normalised, and sign-in finds them from either form", async () => {
  const [stored] = await sql`select username from users where username like 'Jos%'`;
  expect(stored?.username).toBe("Jos\u00e9");
  const web = webClient(server.web);
  expect(errorOf((await web.login("Jose\u0301")).body)).toBeUndefined();
  expect((await web.get("/")).status).toBe(200);
});

test("names wholly in one script, or in the mixes Japanese, Chinese and Korean use, are allowed", async () => {
  const api = apiClient(server.api);
  for (const username of [
    "Дмитрий",
    "Σωκράτης",
    "Բարեւ",
    "山田たろう",
    "Tanaka タロウ",
    "김민준 Kim",
    "王小明 Wang",
    "user_42",
  ])
    expect((await api.post("/register", { username, email: "c@x.dk", pwd: "p" })).status).toBe(204);
});

// The course's simulator must keep registering every user it registers
// (the replay test sends only the scenario's first rows).
test("every name the simulator's scenario registers passes the checks, and no two fold alike", async () => {
  const names = (await loadScenario()).filter((a) => a.command === "register").map((a) => a.user);
  expect(names.length).toBeGreaterThan(100);
  expect(names.filter((name) => usernameProblem(name.normalize("NFC")) !== null)).toEqual([]);
  const folded = await sql`select distinct fold_username(n) from unnest(${names}::text[]) as n`;
  expect(folded.length).toBe(new Set(names).size);
});

test("the database refuses a second name differing only in case, even past the application", async () => {
  await expect(sql`insert into users (username, email, pw_hash) values ('ALICE', 'a@x', 'x')`).rejects.toThrow(
    /users_username_folded_key/,
  );
});

describe("migration 0004 on a database that already holds names differing only in case", () => {
  test("stops with the list of them and changes nothing; after a rename it applies", async () => {
    const client = postgres(await freshDatabase(), { max: 1, onnotice: () => {} });
    const db = drizzle(client, { schema }) as unknown as Db;
    const before = embeddedMigrations().filter((m) => m.tag < "0004");
    await applyMigrations(db, before);
    await client`insert into users (username, email, pw_hash) values ('alice', 'a@x', 'x'), ('bob', 'b@x', 'x'), ('Alice', 'A@x', 'x'), ('ALICE', 'A@x', 'x')`;

    await expect(applyMigrations(db)).rejects.toThrow(
      "migration 0004_username_case_insensitive failed: usernames that differ only in case: alice (id 1), Alice (id 3), ALICE (id 4). Rename all but one",
    );
    const rows = async () => (await client`select username from users order by user_id`).map((r) => r.username);
    expect(await rows()).toEqual(["alice", "bob", "Alice", "ALICE"]);
    expect((await client`select to_regclass('users_username_lower_key') as idx`)[0]?.idx).toBeNull();

    // The runbook's rename (SECURITY.md): every name but the oldest of a group gets its id appended.
    await client`
      UPDATE users SET username = username || '-' || user_id
      WHERE user_id IN (SELECT user_id FROM users u
                        WHERE EXISTS (SELECT 1 FROM users o
                                      WHERE lower(o.username) = lower(u.username) AND o.user_id < u.user_id))`;
    expect((await applyMigrations(db)).applied).toEqual(
      embeddedMigrations()
        .filter((m) => m.tag >= "0004")
        .map((m) => m.tag),
    );
    expect(await rows()).toEqual(["alice", "bob", "Alice-3", "ALICE-4"]);
    await client.end();
  });
});
