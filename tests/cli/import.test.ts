// `minitwit import`: a legacy MiniTwit database (the original SQLite schema,
// or Postgres with the same tables) lands in the current schema with its ids,
// without duplicate or dangling rows, and its users sign in with their old
// passwords through the web app, leaving an argon2id hash behind.
import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { loadConfig } from "../../src/config/settings";
import { openDatabase } from "../../src/database/open";
import { importLegacy } from "../../src/legacy-import/import";
import { openLegacySource } from "../../src/legacy-import/sources";
import { createLogger } from "../../src/observability/log";
import { runMinitwit } from "../support/cli";
import { freshDatabase } from "../support/postgres";
import { apiClient, startTestServer } from "../support/server";
import { flashesOf, webClient } from "../support/web-client";

const root = join(import.meta.dir, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "minitwit-import-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Hashes made by werkzeug's generate_password_hash and Python's hashlib (see import-passwords.test.ts).
const USERS = [
  {
    id: 1,
    name: "ann",
    password: "old-secret-1",
    hash: "pbkdf2:sha256:50000$Hhm0KZZh$b049c7eae756b97521fb2c1c51b72d56f34ce128efa57790eb60bd1e33d2b82d",
  },
  {
    id: 2,
    name: "Bob Builder",
    password: "pässwörd ünïcode ✓",
    hash: "pbkdf2:sha256$ubOZ87B0$05c4c29c6df8ee381582f3c73e4f69faa3bcad62d8bfea8c935c13d76ef4f90f",
  },
  {
    id: 5,
    name: "eve",
    password: "plain old",
    hash: "31b6e0279206c13e61f73b1402439814899d505e3b832a33d12665a95ed8f0fc",
  },
];
// (who, whom): one duplicate, two naming user 99 who does not exist.
const FOLLOWS = [
  [1, 2],
  [1, 2],
  [2, 1],
  [5, 1],
  [1, 99],
  [99, 5],
];
// (id, author, text, pub_date, flagged): one by a missing author, one without pub_date.
const MESSAGES: [number, number, string, number | null, number | null][] = [
  [10, 1, 'first <post> & "quotes"', 1_300_000_000, 0],
  [11, 2, "flagged one", 1_300_000_100, 1],
  [15, 5, "no flag column value", 1_300_000_200, null],
  [16, 42, "by nobody", 1_300_000_300, 0],
  [17, 1, "undated", null, 0],
];
const EXPECTED = {
  users: USERS.map((u) => [u.id, u.name]),
  follows: [
    [1, 2],
    [2, 1],
    [5, 1],
  ],
  messages: [
    [10, 1, 'first <post> & "quotes"', 1_300_000_000, false],
    [11, 2, "flagged one", 1_300_000_100, true],
    [15, 5, "no flag column value", 1_300_000_200, false],
    [17, 1, "undated", 0, false],
  ],
};

function legacySqlite(name: string, users = USERS): string {
  const path = join(dir, name);
  const db = new Database(path, { create: true });
  db.exec(readFileSync(join(root, "tests", "fixtures", "original-schema.sql"), "utf8"));
  for (const u of users) {
    db.query("insert into user (user_id, username, email, pw_hash) values (?, ?, ?, ?)").run(
      u.id,
      u.name,
      `${u.name.replace(/\W/g, "")}@example.com`,
      u.hash,
    );
  }
  for (const [who, whom] of FOLLOWS) db.query("insert into follower values (?, ?)").run(who ?? null, whom ?? null);
  for (const m of MESSAGES) db.query("insert into message values (?, ?, ?, ?, ?)").run(...m);
  db.close();
  return path;
}

const runCli = (args: string[], env: Record<string, string>) =>
  runMinitwit(args, { HOME: dir, LOG_LEVEL: "silent", ...env }, dir);

async function contents(url: string) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const users = await sql`select user_id, username from users order by user_id`;
    const follows = await sql`select who_id, whom_id from followers order by who_id, whom_id`;
    const messages = await sql`select message_id, author_id, text, pub_date, flagged from messages order by 1`;
    return {
      users: users.map((r) => [r.user_id, r.username]),
      follows: follows.map((r) => [r.who_id, r.whom_id]),
      messages: messages.map((r) => [r.message_id, r.author_id, r.text, Number(r.pub_date), r.flagged]),
    };
  } finally {
    await sql.end();
  }
}

async function hashOf(url: string, username: string): Promise<string> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const [row] = await sql`select pw_hash from users where username = ${username}`;
  await sql.end();
  return row?.pw_hash;
}

test("a legacy SQLite database imports with its ids; duplicates and dangling rows are dropped and counted", async () => {
  const legacy = legacySqlite("minitwit.db");
  const url = await freshDatabase();
  const first = await runCli(["import", "--from", `sqlite://${legacy}`], { DATABASE_URL: url });
  expect(first.stderr).toBe("");
  expect(first.code).toBe(0);
  expect(first.stdout).toContain("imported 3 users, 3 follows and 4 messages");
  expect(first.stdout).toContain("dropped 1 duplicate follows, 2 follows and 1 messages naming missing users");
  expect(first.stdout).toContain("password hashes: 2 werkzeug pbkdf2, 1 sha256");
  expect(first.stdout).toContain("1 messages had no pub_date");
  expect(await contents(url)).toEqual(EXPECTED);

  // Running it again refuses and changes nothing; --force replaces.
  const again = await runCli(["import", "--from", legacy], { DATABASE_URL: url });
  expect(again.code).toBe(1);
  expect(again.stderr).toContain("already holds 3 users, 3 follower rows and 4 messages");
  expect(await contents(url)).toEqual(EXPECTED);
  const forced = await runCli(["import", "--from", legacy, "--force"], { DATABASE_URL: url });
  expect(forced.code).toBe(0);
  expect(await contents(url)).toEqual(EXPECTED);
}, 60_000);

test("imported users sign in with their old passwords and leave an argon2id hash behind", async () => {
  const url = await freshDatabase();
  expect((await runCli(["import", "--from", legacySqlite("signin.db")], { DATABASE_URL: url })).code).toBe(0);
  const app = await startTestServer("postgres", { DATABASE_URL: url });
  try {
    for (const user of USERS) {
      const web = webClient(app.web);
      const wrong = await web.login(user.name, `${user.password}!`);
      expect(wrong.body).toContain("Invalid password");
      expect(await hashOf(url, user.name)).toBe(user.hash);

      const page = await web.login(user.name, user.password);
      expect(flashesOf(page.body)).toContain("You were logged in");
      const upgraded = await hashOf(url, user.name);
      expect(upgraded).toStartWith("$argon2id$");
      // The new hash works, the legacy one is gone.
      const later = webClient(app.web);
      expect(flashesOf((await later.login(user.name, user.password)).body)).toContain("You were logged in");
      expect(await hashOf(url, user.name)).toBe(upgraded);
    }
    // The identities continue after the highest imported ids.
    const api = apiClient(app.api);
    expect((await api.post("/register", { username: "newcomer", email: "n@example.com", pwd: "x" })).status).toBe(204);
    expect((await api.post("/msgs/newcomer", { content: "after the import" })).status).toBe(204);
    const sql = postgres(url, { max: 1 });
    const [user] = await sql`select user_id from users where username = 'newcomer'`;
    const [message] = await sql`select message_id from messages where text = 'after the import'`;
    await sql.end();
    expect(user?.user_id).toBe(Math.max(...USERS.map((u) => u.id)) + 1);
    expect(message?.message_id).toBe(Math.max(...MESSAGES.map((m) => m[0])) + 1);
  } finally {
    await app.stop();
  }
}, 60_000);

test("a legacy Postgres database with the original tables imports the same way", async () => {
  const legacyUrl = await freshDatabase();
  const legacy = postgres(legacyUrl, { max: 1, onnotice: () => {} });
  await legacy`create table "user" (user_id serial primary key, username text not null, email text not null,
                                     pw_hash text not null)`;
  await legacy`create table follower (who_id integer, whom_id integer)`;
  await legacy`create table message (message_id serial primary key, author_id integer not null, text text not null,
                                     pub_date integer, flagged integer)`;
  for (const u of USERS) {
    await legacy`insert into "user" values (${u.id}, ${u.name}, ${`${u.name.replace(/\W/g, "")}@example.com`}, ${u.hash})`;
  }
  for (const [who, whom] of FOLLOWS) await legacy`insert into follower values (${who ?? null}, ${whom ?? null})`;
  for (const m of MESSAGES) await legacy`insert into message values (${m[0]}, ${m[1]}, ${m[2]}, ${m[3]}, ${m[4]})`;
  await legacy.end();

  const url = await freshDatabase();
  const result = await runCli(["import", "--from", legacyUrl], { DATABASE_URL: url });
  expect(result.stderr).toBe("");
  expect(result.stdout).toContain("imported 3 users, 3 follows and 4 messages");
  expect(await contents(url)).toEqual(EXPECTED);
}, 60_000);

test.each(["sqlite", "postgres"] as const)(
  "a %s source larger than one read batch arrives whole",
  async (kind) => {
    const rows = 2_500;
    let from: string;
    if (kind === "sqlite") {
      from = legacySqlite(`bulk-${rows}.db`);
      const db = new Database(from);
      db.exec(`with recursive n(i) as (select 1 union all select i + 1 from n where i < ${rows})
             insert into message select 1000 + i, 1 + i % 2, 'bulk ' || i, i, 0 from n`);
      db.close();
    } else {
      from = await freshDatabase();
      const legacy = postgres(from, { max: 1, onnotice: () => {} });
      await legacy`create table "user" (user_id integer primary key, username text, email text, pw_hash text)`;
      await legacy`create table follower (who_id integer, whom_id integer)`;
      await legacy`create table message (message_id integer primary key, author_id integer, text text,
                                       pub_date integer, flagged integer)`;
      await legacy`insert into "user" values (1, 'solo', 's@example.com', ${USERS[0]?.hash ?? ""})`;
      await legacy`insert into message select 1000 + i, 1, 'bulk ' || i, i, 0 from generate_series(1, ${rows}) i`;
      await legacy.end();
    }
    const url = await freshDatabase();
    const result = await runCli(["import", "--from", from], { DATABASE_URL: url });
    expect(result.stderr).toBe("");
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    const [bulk] = await sql`select count(*)::int as n, max(message_id) as top from messages where text like 'bulk %'`;
    await sql`insert into messages (author_id, text, pub_date) values (1, 'next', 0)`;
    const [next] = await sql`select message_id from messages where text = 'next'`;
    await sql.end();
    expect(bulk).toEqual({ n: rows, top: 1000 + rows });
    expect(next?.message_id).toBe(1000 + rows + 1);
  },
  60_000,
);

test("the embedded database (no DATABASE_URL) takes an import too", async () => {
  const config = loadConfig({ DATA_DIR: mkdtempSync(join(dir, "pglite-")), LOG_LEVEL: "silent" });
  const database = await openDatabase(config, createLogger("silent"));
  const source = await openLegacySource(legacySqlite("embedded.db"));
  try {
    const report = await importLegacy(database.db, source, { force: false });
    expect(report.imported).toEqual({ users: 3, followers: 3, messages: 4 });
    await expect(importLegacy(database.db, source, { force: false })).rejects.toThrow(/already holds/);
  } finally {
    await source.close();
    await database.close();
  }
}, 60_000);

test("usernames shared by two legacy users stop the import and name them; nothing is written", async () => {
  const url = await freshDatabase();
  const twins = [...USERS, { id: 9, name: "ann", password: "", hash: USERS[0]?.hash ?? "" }];
  const result = await runCli(["import", "--from", legacySqlite("twins.db", twins)], { DATABASE_URL: url });
  expect(result.code).toBe(1);
  expect(result.stderr).toContain('"ann" (ids 1 and 9)');
  expect(await contents(url)).toEqual({ users: [], follows: [], messages: [] });
}, 60_000);

test.each([
  ["no --from", [], 2, "--from is required"],
  ["an unsupported URL scheme", ["--from", "mysql://db/minitwit"], 2, "--from must be a postgres:// URL"],
  ["a sqlite URL naming a host", ["--from", "sqlite://server/minitwit.db"], 2, "names a host"],
  ["a missing file", ["--from", "/nonexistent/minitwit.db"], 1, "does not exist"],
  ["a file that is no database", ["--from", "NOT_A_DB"], 1, "cannot read"],
  ["a SQLite file without the legacy tables", ["--from", "EMPTY_DB"], 1, "not a legacy MiniTwit database"],
])("%s is refused with a clear message", async (_, args, code, message) => {
  writeFileSync(join(dir, "not-a-db.txt"), "hello, this is text\n".repeat(100));
  new Database(join(dir, "empty.db"), { create: true }).exec("create table if not exists other (x int)");
  const resolved = args.map((a) =>
    a === "NOT_A_DB" ? join(dir, "not-a-db.txt") : a === "EMPTY_DB" ? join(dir, "empty.db") : a,
  );
  const result = await runCli(["import", ...resolved], { DATABASE_URL: await freshDatabase() });
  expect(result.code).toBe(code);
  expect(result.stderr).toContain(message);
  if (code === 2) expect(result.stderr).toContain("Try: minitwit import --help");
});
