// Queries on messages. Every timeline hides flagged messages and pages by
// message id (keyset): `before` is the smallest id already shown, so page
// 1,000 costs what page 1 does.
import { and, between, lt, sql } from "drizzle-orm";
import { messages } from "../../db/schema";
import type { Db } from "../database/open";
import { fixedStatement, preparedPer, rows } from "../database/queries";

export interface TimelineMessage {
  readonly messageId: number;
  readonly text: string;
  readonly pubDate: number;
  readonly username: string;
  readonly email: string;
}

export interface Page {
  readonly limit: number;
  /** Only messages with a smaller id than this. */
  readonly before?: number;
}

// message_id is a 4-byte integer: a cursor beyond it means "from the newest".
const NO_CURSOR = 2_147_483_647;

/** The `message_id <` bound of a page: its cursor, or above every id when it has none or one out of range. */
export function cursor(page: { readonly before?: number }): number {
  return Math.min(page.before ?? NO_CURSOR, NO_CURSOR);
}

// The timeline indexes (db/schema.ts) hold only unflagged messages, ordered
// by message_id DESC NULLS LAST. A query gets to use them only when it says
// exactly that: `flagged = false` written out, since a bound parameter cannot
// prove a partial index's condition and the generic plan of a prepared
// statement would skip the index; and `desc nulls last`, since plain DESC
// means NULLS FIRST, an order these indexes do not have, so PostgreSQL would
// fetch and sort all of an author's messages (37,000 for the busiest author
// of a seeded database) to show 30.
const visible = sql`${messages.flagged} = false`;
const newestFirst = sql`${messages.messageId} desc nulls last`;

// The public timeline is the simulator's `GET /msgs` and the most read page.
// Its rows come straight from the driver (fromRaw) rather than through
// drizzle's mapping of a builder query's rows, column by column: for a page
// of 100 that mapping was more than half of what MiniTwit's CPU for the
// request exceeded the yardstick's by (docs/performance.md).
const selectPublicPage = fixedStatement<RawMessage>(
  `select m.message_id, m.text, m.pub_date, u.username, u.email
   from messages m
   join users u on u.user_id = m.author_id
   where m.flagged = false and m.message_id < $1
   order by m.message_id desc nulls last
   limit $2`,
);

export async function publicTimeline(db: Db, page: Page): Promise<TimelineMessage[]> {
  return (await selectPublicPage(db, cursor(page), page.limit)).map(fromRaw);
}

// A user's page asks for `author_id between $1 and $1` and orders by author
// first, where `author_id = $1` would say the same: a generic plan knows
// neither the author nor the cursor, and given `author_id = $1 and
// message_id < $2` PostgreSQL may price walking the public index and
// filtering by author below reading the author's index. For a small author
// that walk reads everyone's messages. Only the author index yields
// (author_id, message_id desc) order, so this form always reads just the
// author's page (docs/performance.md, "Figures behind the code"). The
// author's name and email come from the caller, who has looked the author up
// already: joining users here would let the planner rediscover the equality.
const authorParam = sql.placeholder("authorId");
const userPage = preparedPer((db) =>
  db
    .select({ messageId: messages.messageId, text: messages.text, pubDate: messages.pubDate })
    .from(messages)
    .where(
      and(
        between(messages.authorId, authorParam, authorParam),
        visible,
        lt(messages.messageId, sql.placeholder("before")),
      ),
    )
    .orderBy(messages.authorId, newestFirst)
    .limit(sql.placeholder("limit"))
    .prepare("user_timeline"),
);

/** The author's messages, newest first. */
export async function userTimeline(
  db: Db,
  author: { readonly userId: number; readonly username: string; readonly email: string },
  page: Page,
): Promise<TimelineMessage[]> {
  const found = await userPage(db).execute({ authorId: author.userId, before: cursor(page), limit: page.limit });
  return found.map((m) => ({ ...m, username: author.username, email: author.email }));
}

// How many of the newest messages "my timeline" looks through before it
// probes the followed authors one by one.
const RECENT_WINDOW = sql.raw("3000");

/**
 * "My timeline": the user's own messages and those of everyone they follow,
 * in one statement. Two ways to find them, each fast where the other is slow:
 * 1. Walk the newest messages (below the page's cursor), keeping the
 *    followed authors', and stop at a page, or after 3,000. Enough when they
 *    write a fair share of what is posted, the common case for anyone
 *    following many or popular accounts: at 1,000,000 messages a user
 *    following 500 accounts has a page after about 100. (The authors are an
 *    array, not a join, so the walk streams in index order and stops early.)
 * 2. Otherwise (a one-time filter skips this part when 1 found a page), probe
 *    each followed author in the author index: the newest message of each,
 *    whose 30th newest is a floor no message of the page can be below, then
 *    each author's messages above that floor. The cost grows with the number
 *    of followed authors, never with the size of the table or the page number.
 */
export async function homeTimeline(db: Db, userId: number, page: Page): Promise<TimelineMessage[]> {
  const bound = cursor(page);
  const size = page.limit;
  const found = await rows<RawMessage>(
    db,
    sql`with authors as materialized (
          select whom_id as author_id from followers where who_id = ${userId} and whom_id <> ${userId}
          union all select ${userId}::int),
        recent as (
          select r.message_id from (
            select message_id, author_id from messages
            where flagged = false and message_id < ${bound}
            order by message_id desc nulls last limit ${RECENT_WINDOW}) r
          where r.author_id = any(array(select author_id from authors))
          order by r.message_id desc nulls last limit ${size}),
        enough as (select count(*) >= ${size} as yes from recent),
        newest as (
          select n.message_id from authors cross join lateral (
            select message_id from messages
            where author_id = authors.author_id and flagged = false and message_id < ${bound}
            order by message_id desc nulls last limit 1) n
          where not (select yes from enough)
          order by n.message_id desc nulls last limit ${size}),
        lowest as (select case when count(*) >= ${size} then min(message_id) else 0 end as id from newest),
        deep as (
          select d.message_id from authors cross join lowest cross join lateral (
            select message_id from messages
            where author_id = authors.author_id and flagged = false
              and message_id < ${bound} and message_id >= lowest.id
            order by message_id desc nulls last limit ${size}) d
          where not (select yes from enough)
          order by d.message_id desc nulls last limit ${size}),
        chosen as (
          select message_id from recent where (select yes from enough)
          union all select message_id from deep)
        select m.message_id, m.text, m.pub_date, u.username, u.email
        from chosen join messages m on m.message_id = chosen.message_id
        join users u on u.user_id = m.author_id
        order by m.message_id desc`,
  );
  return found.map(fromRaw);
}

const selectTimelineByUsername = fixedStatement<RawMessage | { [K in keyof RawMessage]: null }>(
  `select m.message_id, m.text, m.pub_date, u.username, u.email
   from users u
   left join lateral (
     select message_id, text, pub_date from messages
     where author_id = u.user_id and flagged = false
     order by message_id desc nulls last limit $2
   ) m on true
   where u.username = $1`,
);

/** A user's messages by name in one round trip; null for an unknown user. */
export async function timelineByUsername(db: Db, username: string, limit: number): Promise<TimelineMessage[] | null> {
  const found = await selectTimelineByUsername(db, username, limit);
  if (found.length === 0) return null;
  return found.flatMap((r) => (r.message_id === null ? [] : [fromRaw(r as RawMessage)]));
}

export async function postMessage(db: Db, authorId: number, text: string, pubDate: number): Promise<number> {
  const [row] = await db
    .insert(messages)
    .values({ authorId, text, pubDate })
    .returning({ messageId: messages.messageId });
  return (row as { messageId: number }).messageId;
}

const insertMessageByUsername = fixedStatement<{ message_id: number }>(
  `insert into messages (author_id, text, pub_date)
   select user_id, $2, $3 from users where username = $1
   returning message_id`,
);

/** Posts as the named user in one statement; false when there is no such user. */
export async function postMessageByUsername(db: Db, username: string, text: string, pubDate: number): Promise<boolean> {
  return (await insertMessageByUsername(db, username, text, pubDate)).length > 0;
}

interface RawMessage {
  message_id: number;
  text: string;
  pub_date: number | string | bigint;
  username: string;
  email: string;
}

function fromRaw(r: RawMessage): TimelineMessage {
  return {
    messageId: Number(r.message_id),
    text: r.text,
    pubDate: Number(r.pub_date),
    username: r.username,
    email: r.email,
  };
}
