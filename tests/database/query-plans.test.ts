// The timeline queries' generic plans read the index made for them. MiniTwit's
// connections plan each statement once, for any parameter values
// (force_generic_plan), so a plan is chosen without knowing the author or
// the cursor. This database is shaped to tempt the planner: few authors, one
// of them busy, so "an average author" looks large enough that walking the
// public index and filtering by author seems cheap, which for a small
// author reads every message in the table.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { literal } from "../../bench/explain";
import * as schema from "../../db/schema";
import { applyMigrations } from "../../src/database/migrate";
import { type Db, POSTGRES_SESSION_SETTINGS } from "../../src/database/open";
import { publicTimeline, userTimeline } from "../../src/store/messages";
import { listMessages } from "../../src/store/moderation";
import { sessionUser } from "../../src/store/sessions";
import { freshDatabase } from "../support/postgres";

let recorder: postgres.Sql;
let planner: postgres.Sql;
let db: Db;
let last: { query: string; params: unknown[] } | null = null;
let oldestOfSmall: number;

beforeAll(async () => {
  const url = await freshDatabase();
  recorder = postgres(url, {
    max: 1,
    onnotice: () => {},
    debug: (_connection, query, params) => {
      last = { query, params: params as unknown[] };
    },
  });
  db = drizzle(recorder, { schema }) as unknown as Db;
  await applyMigrations(db);
  await recorder`insert into users (username, email, pw_hash)
                 select 'author' || g, 'a' || g || '@example.com', 'x' from generate_series(1, 6) g`;
  // 18,000 messages: author1 wrote 17,960 of them, author6 only 40, spread over time.
  await recorder`insert into messages (author_id, text, pub_date, flagged)
                 select case when g % 450 = 0 then 6 else 1 + g % 5 end, 'message ' || g, g, false
                 from generate_series(1, 18000) g`;
  // A few of author6's messages are flagged, as moderators leave them.
  await recorder`update messages set flagged = true
                 where message_id in (select message_id from messages where author_id = 6 order by message_id desc limit 3 offset 2)`;
  await recorder`vacuum analyze messages`;
  const [row] = await recorder`select min(message_id) as oldest from messages where author_id = 6`;
  oldestOfSmall = Number(row?.oldest);
  planner = postgres(url, { max: 1, onnotice: () => {}, connection: POSTGRES_SESSION_SETTINGS });
}, 60_000);

afterAll(async () => {
  await recorder?.end();
  await planner?.end();
});

/** The generic plan, as MiniTwit's connections make it, of the statement `run` sends. */
async function plan(run: () => Promise<unknown>): Promise<string> {
  last = null;
  await run();
  const captured = last as { query: string; params: unknown[] } | null;
  if (captured === null) throw new Error("no query was sent");
  const name = `p_${crypto.randomUUID().replaceAll("-", "")}`;
  await planner.unsafe(`prepare ${name} as ${captured.query}`);
  const args = captured.params.map(literal).join(", ");
  const rows = await planner.unsafe(`explain (analyze, buffers, costs off) execute ${name}(${args})`);
  return rows.map((r) => r["QUERY PLAN"]).join("\n");
}

const sharedBuffers = (text: string) => Number(/Buffers: shared hit=(\d+)/.exec(text)?.[1] ?? Number.NaN);

test.each([
  ["a small author's timeline, page 1", 6, undefined],
  ["a small author's timeline, a later page", 6, () => oldestOfSmall + 450 * 20],
  ["the busiest author's timeline, page 1", 1, undefined],
  ["the busiest author's timeline, a later page", 1, () => 9_000],
])("%s reads only the author index", async (_case, userId, before) => {
  const author = { userId, username: `author${userId}`, email: "" };
  const text = await plan(() => userTimeline(db, author, { limit: 30, before: before?.() }));
  expect(text).toContain("messages_author_idx");
  expect(text).not.toContain("messages_public_idx");
  expect(text).not.toContain("Seq Scan");
  // The author's page of the index and its rows; the table has hundreds of pages.
  expect(sharedBuffers(text)).toBeLessThan(40);
});

test("the public timeline, page 1 and a deep page, reads the public index", async () => {
  for (const before of [undefined, 9_000]) {
    const text = await plan(() => publicTimeline(db, { limit: 30, before }));
    expect(text).toContain("messages_public_idx");
    expect(sharedBuffers(text)).toBeLessThan(200);
  }
});

test("a moderator's listing of one author reads that author's slices of the two partial indexes", async () => {
  const text = await plan(() => listMessages(db, { username: "author6", limit: 20 }));
  expect(text).toContain("messages_author_idx");
  expect(text).toContain("messages_flagged_idx");
  expect(text).not.toContain("Seq Scan on messages");
  // Not the walk through every message, newest first, that it used to be.
  expect(text).not.toContain("Index Scan Backward using messages_pkey");
  expect(sharedBuffers(text)).toBeLessThan(200);

  const listed = await listMessages(db, { username: "author6", limit: 10 });
  const expected = await recorder`select message_id, flagged from messages where author_id = 6
                                  order by message_id desc limit 10`;
  expect(listed.map((m) => [m.messageId, m.flagged])).toEqual(expected.map((r) => [r.message_id, r.flagged]));
  expect(listed.filter((m) => m.flagged)).toHaveLength(3);
  expect(listed.every((m) => m.author === "author6")).toBe(true);
  const flaggedOnly = await listMessages(db, { username: "author6", flaggedOnly: true, limit: 10 });
  expect(flaggedOnly.map((m) => m.messageId)).toEqual(listed.filter((m) => m.flagged).map((m) => m.messageId));
});

test("a signed-in page finds its viewer with one statement through the sessions' primary key", async () => {
  await recorder`insert into sessions (id_hash, user_id, created_at, expires_at)
                 select 'hash' || g, 1 + g % 6, 0, 4000000000 from generate_series(1, 20000) g`;
  await recorder`vacuum analyze sessions`;
  const text = await plan(() => sessionUser(db, "hash777", 1_800_000_000));
  expect(text).toContain("sessions_pkey");
  expect(text).not.toContain("Seq Scan on sessions");
  expect(text).toContain("users_pkey");
  // Two index probes: a few pages, whatever the number of sessions.
  expect(sharedBuffers(text)).toBeLessThan(10);
});
