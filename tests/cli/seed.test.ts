// `minitwit seed` on a small scale: the counts it promises, a heavy-tailed
// follow graph, a schema left exactly as the migrations made it (the load
// drops and recreates foreign keys and indexes), refusal of a database that
// holds data, and, on the seeded data, every timeline query agreeing with a
// plain SQL model of it, on both of "my timeline"'s strategies and on later pages.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { verifyPassword } from "../../src/accounts/passwords/hashing";
import { loadConfig } from "../../src/config/settings";
import { HoldsDataError } from "../../src/database/admin";
import { applyMigrations } from "../../src/database/migrate";
import { type Database, openDatabase } from "../../src/database/open";
import { createLogger } from "../../src/observability/log";
import { type SeedOptions, type SeedResult, seedDatabase } from "../../src/seed/populate";
import { homeTimeline, publicTimeline, timelineByUsername, userTimeline } from "../../src/store/messages";
import { createUser, userByName } from "../../src/store/users";
import { freshDatabase } from "../support/postgres";

const OPTIONS: SeedOptions = {
  users: 300,
  messages: 6000,
  password: "seeded-password",
  seed: 7,
  force: false,
  now: 1_750_000_000,
};

let url: string;
let database: Database;
let sql: postgres.Sql;
let schemaBefore: string[];
let result: SeedResult;

/** Every index and constraint of the seeded tables, as the catalog defines them. */
async function schemaObjects(): Promise<string[]> {
  const indexes = await sql`select indexdef from pg_indexes where tablename in ('users', 'followers', 'messages')`;
  const constraints = await sql`
    select conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) || ' ' || convalidated as c
    from pg_constraint where conrelid in ('users'::regclass, 'followers'::regclass, 'messages'::regclass)`;
  return [...indexes.map((r) => r.indexdef as string), ...constraints.map((r) => r.c as string)].sort();
}

beforeAll(async () => {
  url = await freshDatabase();
  database = await openDatabase(loadConfig({ DATABASE_URL: url }), createLogger("silent"));
  await applyMigrations(database.db);
  sql = postgres(url, { max: 1, onnotice: () => {} });
  schemaBefore = await schemaObjects();
  result = await seedDatabase(database, url, OPTIONS);
}, 120_000);

afterAll(async () => {
  await sql.end();
  await database.close();
});

describe("minitwit seed", () => {
  test("creates the users, follows and messages it reports", async () => {
    const [counts] = await sql`select (select count(*) from users)::int as users,
      (select count(*) from followers)::int as follows, (select count(*) from messages)::int as messages,
      (select count(*) from messages where flagged)::int as flagged`;
    expect(counts).toEqual({ users: 300, follows: result.follows, messages: 6000, flagged: result.flagged });
    expect(result.follows).toBeGreaterThan(300);
  });

  test("the follow graph is heavy-tailed: one user follows most others, many follow a few", async () => {
    const perUser = await sql`select count(*)::int as n from followers group by who_id order by n desc`;
    const counts = perUser.map((r) => r.n as number);
    expect(counts[0]).toBe(result.heaviestFollower.follows);
    expect(counts[0]).toBeGreaterThanOrEqual(Math.floor(299 * 0.6));
    const median = counts[Math.floor(counts.length / 2)] as number;
    expect(median).toBeLessThan(30);
    const [self] = await sql`select count(*)::int as n from followers where who_id = whom_id`;
    expect(self?.n).toBe(0);
  });

  test("the load leaves the schema as the migrations made it, with every key checked", async () => {
    expect(await schemaObjects()).toEqual(schemaBefore);
    const [orphans] = await sql`select
      (select count(*) from followers f where not exists (select 1 from users u where u.user_id = f.who_id)
         or not exists (select 1 from users u where u.user_id = f.whom_id))::int as follows,
      (select count(*) from messages m where not exists (select 1 from users u where u.user_id = m.author_id))::int as messages`;
    expect(orphans).toEqual({ follows: 0, messages: 0 });
  });

  test("ids continue after the seeded ones, and seeded users sign in with the password", async () => {
    expect(await createUser(database.db, { username: "newcomer", email: "n@example.com", pwHash: "x" })).toBe(301);
    const user = await userByName(database.db, result.heaviestFollower.username);
    expect(user).not.toBeNull();
    expect(await verifyPassword(user?.pwHash as string, "seeded-password")).toBe(true);
  });

  test("refuses a database that holds data, replaces it with --force, and is deterministic", async () => {
    await expect(seedDatabase(database, url, OPTIONS)).rejects.toBeInstanceOf(HoldsDataError);
    const again = await seedDatabase(database, url, { ...OPTIONS, force: true });
    expect({ ...again, seconds: 0 }).toEqual({ ...result, seconds: 0 });
    const [users] = await sql`select count(*)::int as n from users`;
    expect(users?.n).toBe(300);
  });

  test("refuses the embedded database", async () => {
    await expect(seedDatabase({ ...database, driver: "pglite" }, null, OPTIONS)).rejects.toThrow(/PostgreSQL/);
  });
});

describe("timelines on the seeded data agree with a plain SQL model", () => {
  const model = async (authors: postgres.PendingQuery<postgres.Row[]> | null, before: number, limit: number) => {
    const found = await sql`select m.message_id from messages m
      where not m.flagged and m.message_id < ${before} ${authors ? sql`and m.author_id in ${authors}` : sql``}
      order by m.message_id desc limit ${limit}`;
    return found.map((r) => r.message_id as number);
  };
  const ids = (list: { messageId: number }[]) => list.map((m) => m.messageId);

  test("my timeline, for heavy, light, self- and non-followers, over three pages", async () => {
    const readers = await sql`(select who_id as id from followers group by who_id order by count(*) desc limit 2)
      union all (select who_id from followers group by who_id order by count(*), who_id limit 2)
      union all (select user_id from users where not exists (select 1 from followers where who_id = user_id) limit 2)`;
    expect(readers.length).toBe(6);
    // The API lets a user follow themselves; their messages must still show once.
    await sql`insert into followers (who_id, whom_id) values (${readers[5]?.id}, ${readers[5]?.id})`;
    for (const { id } of readers) {
      const authors = sql`(select whom_id from followers where who_id = ${id} union select ${id}::int)`;
      let before = 2147483647;
      for (let page = 0; page < 3; page++) {
        const got = ids(await homeTimeline(database.db, id, { limit: 30, before }));
        expect(got).toEqual(await model(authors, before, 30));
        if (got.length < 30) break;
        before = got.at(-1) as number;
      }
    }
  });

  test("the public timeline, a user's timeline and the API's user timeline", async () => {
    const [busiest] = await sql`select author_id, u.username from messages join users u on u.user_id = author_id
      group by 1, 2 order by count(*) desc limit 1`;
    const authorId = busiest?.author_id as number;
    const author = { userId: authorId, username: busiest?.username as string, email: "" };
    expect(ids(await publicTimeline(database.db, { limit: 30, before: 3000 }))).toEqual(await model(null, 3000, 30));
    const own = sql`(${authorId}::int)`;
    expect(ids(await userTimeline(database.db, author, { limit: 30 }))).toEqual(await model(own, 2147483647, 30));
    const deep = (await model(own, 2147483647, 61)).at(-1) as number;
    expect(ids(await userTimeline(database.db, author, { limit: 30, before: deep }))).toEqual(
      await model(own, deep, 30),
    );
    const api = await timelineByUsername(database.db, busiest?.username as string, 100);
    expect(ids(api ?? [])).toEqual(await model(own, 2147483647, 100));
  });
});
