// Queries on messages. Every timeline hides flagged messages and pages by
// message id (keyset): `before` is the smallest id already shown, so page
// 1,000 costs what page 1 does.
import { and, desc, eq, lt, sql } from "drizzle-orm";
import { messages, users } from "../../db/schema";
import type { Db } from "../database";
import { rows } from "./rows";

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

const timelineColumns = {
  messageId: messages.messageId,
  text: messages.text,
  pubDate: messages.pubDate,
  username: users.username,
  email: users.email,
};

export async function publicTimeline(db: Db, page: Page): Promise<TimelineMessage[]> {
  return db
    .select(timelineColumns)
    .from(messages)
    .innerJoin(users, eq(users.userId, messages.authorId))
    .where(and(eq(messages.flagged, false), before(page)))
    .orderBy(desc(messages.messageId))
    .limit(page.limit);
}

export async function userTimeline(db: Db, authorId: number, page: Page): Promise<TimelineMessage[]> {
  return db
    .select(timelineColumns)
    .from(messages)
    .innerJoin(users, eq(users.userId, messages.authorId))
    .where(and(eq(messages.authorId, authorId), eq(messages.flagged, false), before(page)))
    .orderBy(desc(messages.messageId))
    .limit(page.limit);
}

/**
 * "My timeline": the user's own messages and those of everyone they follow.
 * Each author contributes at most one page from the author index (a lateral
 * probe), then the slices are merged; the cost grows with the number of
 * followed authors, never with the size of the message table.
 */
export async function homeTimeline(db: Db, userId: number, page: Page): Promise<TimelineMessage[]> {
  const bound = page.before ?? 2147483647;
  const found = await rows<RawMessage>(
    db,
    sql`select m.message_id, m.text, m.pub_date, u.username, u.email
        from (select whom_id as author_id from followers where who_id = ${userId}
              union select ${userId}::int) a
        cross join lateral (
          select message_id, author_id, text, pub_date from messages
          where author_id = a.author_id and flagged = false and message_id < ${bound}
          order by message_id desc limit ${page.limit}
        ) m
        join users u on u.user_id = m.author_id
        order by m.message_id desc
        limit ${page.limit}`,
  );
  return found.map(fromRaw);
}

/** A user's messages by name in one round trip; null for an unknown user. */
export async function timelineByUsername(db: Db, username: string, limit: number): Promise<TimelineMessage[] | null> {
  const found = await rows<RawMessage | { [K in keyof RawMessage]: null }>(
    db,
    sql`select m.message_id, m.text, m.pub_date, u.username, u.email
        from users u
        left join lateral (
          select message_id, text, pub_date from messages
          where author_id = u.user_id and flagged = false
          order by message_id desc limit ${limit}
        ) m on true
        where u.username = ${username}`,
  );
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

/** Posts as the named user in one statement; false when there is no such user. */
export async function postMessageByUsername(db: Db, username: string, text: string, pubDate: number): Promise<boolean> {
  const inserted = await rows<{ message_id: number }>(
    db,
    sql`insert into messages (author_id, text, pub_date)
        select user_id, ${text}, ${pubDate} from users where username = ${username}
        returning message_id`,
  );
  return inserted.length > 0;
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

function before(page: Page) {
  return page.before === undefined ? undefined : lt(messages.messageId, page.before);
}
