// Moderation: hiding messages (the original's flag_tool) and the audit trail
// of who did it.
import { and, count, desc, eq, inArray, lt, ne, sql } from "drizzle-orm";
import { messages, moderationEvents, users } from "../../db/schema";
import type { Db } from "../database/open";
import { rows } from "../database/queries";
import { cursor } from "./messages";

export type FlagAction = "flag" | "unflag";

export interface FlagResult {
  /** The ids whose flag this call changed, each with its audit event. */
  readonly changed: ReadonlySet<number>;
  /** The ids that exist and already were as asked: nothing done, nothing recorded. */
  readonly unchanged: ReadonlySet<number>;
}

/**
 * Sets or clears the flag on each message and records one audit event per
 * message it changed, in one transaction. A message already flagged (or
 * already shown) is left alone: no event, so the audit trail and the metric
 * read from it count changes only. Under concurrent calls the UPDATE's
 * re-check of `flagged` lets exactly one of them change a message.
 */
export async function setFlagged(
  db: Db,
  ids: readonly number[],
  action: FlagAction,
  operator: string,
  at: number,
): Promise<FlagResult> {
  if (ids.length === 0) return { changed: new Set(), unchanged: new Set() };
  const wanted = action === "flag";
  return db.transaction(async (tx) => {
    const changed = await tx
      .update(messages)
      .set({ flagged: wanted })
      .where(and(inArray(messages.messageId, [...ids]), ne(messages.flagged, wanted)))
      .returning({ messageId: messages.messageId });
    if (changed.length > 0) {
      await tx.insert(moderationEvents).values(changed.map(({ messageId }) => ({ messageId, action, operator, at })));
    }
    const changedIds = new Set(changed.map((r) => r.messageId));
    const existing = await tx
      .select({ messageId: messages.messageId })
      .from(messages)
      .where(inArray(messages.messageId, [...ids]));
    return {
      changed: changedIds,
      unchanged: new Set(existing.map((r) => r.messageId).filter((id) => !changedIds.has(id))),
    };
  });
}

export interface ListedMessage {
  readonly messageId: number;
  readonly author: string;
  readonly pubDate: number;
  readonly flagged: boolean;
  readonly text: string;
}

export interface MessageFilter {
  readonly username?: string;
  readonly flaggedOnly?: boolean;
  readonly limit: number;
  readonly before?: number;
}

/** Messages newest first, flagged ones included, for moderators. */
export async function listMessages(db: Db, filter: MessageFilter): Promise<ListedMessage[]> {
  if (filter.username !== undefined) return authorMessages(db, filter.username, filter);
  return db
    .select(listedColumns)
    .from(messages)
    .innerJoin(users, eq(users.userId, messages.authorId))
    .where(
      and(
        // Written out, not bound: only a literal lets the planner use the flagged index.
        filter.flaggedOnly ? sql`${messages.flagged} = true` : undefined,
        filter.before === undefined ? undefined : lt(messages.messageId, filter.before),
      ),
    )
    .orderBy(desc(messages.messageId))
    .limit(filter.limit);
}

const listedColumns = {
  messageId: messages.messageId,
  author: users.username,
  pubDate: messages.pubDate,
  flagged: messages.flagged,
  text: messages.text,
};

/**
 * One author's messages: the newest of their unflagged ones (the author
 * index) and of their flagged ones (the flagged index), merged. Filtering
 * the whole table by author instead walked every message of the table, even
 * for an author of a few. `between` rather than `=`
 * keeps each index's (author, id) order in the generic plan, as in
 * store/messages.ts.
 */
async function authorMessages(db: Db, username: string, filter: MessageFilter): Promise<ListedMessage[]> {
  const before = cursor(filter);
  const found = await rows<{ message_id: number; author: string; pub_date: string; flagged: boolean; text: string }>(
    db,
    sql`with a as (select user_id from users where username = ${username}),
        ids as (
          (select message_id from messages
           where flagged = false and message_id < ${before}
             and author_id between (select user_id from a) and (select user_id from a)
           order by author_id, message_id desc nulls last limit ${filter.limit})
          union all
          (select message_id from messages
           where flagged = true and message_id < ${before}
             and author_id between (select user_id from a) and (select user_id from a)
           order by author_id, message_id desc nulls last limit ${filter.limit}))
        select m.message_id, u.username as author, m.pub_date, m.flagged, m.text
        from ids join messages m on m.message_id = ids.message_id
        join users u on u.user_id = m.author_id
        where ${filter.flaggedOnly ? sql`m.flagged = true` : sql`true`}
        order by m.message_id desc limit ${filter.limit}`,
  );
  return found.map((r) => ({
    messageId: Number(r.message_id),
    author: r.author,
    pubDate: Number(r.pub_date),
    flagged: r.flagged,
    text: r.text,
  }));
}

/** Moderation events so far, per action (a small table: counted directly). */
export async function moderationCounts(db: Db): Promise<Record<FlagAction, number>> {
  const found = await db
    .select({ action: moderationEvents.action, n: count() })
    .from(moderationEvents)
    .groupBy(moderationEvents.action);
  const counts = { flag: 0, unflag: 0 };
  for (const r of found) counts[r.action] = Number(r.n);
  return counts;
}
