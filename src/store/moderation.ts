// Moderation: hiding messages (the original's flag_tool) and the audit trail
// of who did it.
import { and, count, desc, eq, inArray, lt } from "drizzle-orm";
import { messages, moderationEvents, users } from "../../db/schema";
import type { Db } from "../database";

export type FlagAction = "flag" | "unflag";

/**
 * Sets or clears the flag on each message and records one audit event per
 * message found, in one transaction. Returns the ids that exist.
 */
export async function setFlagged(
  db: Db,
  ids: readonly number[],
  action: FlagAction,
  operator: string,
  at: number,
): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  return db.transaction(async (tx) => {
    const found = await tx
      .update(messages)
      .set({ flagged: action === "flag" })
      .where(inArray(messages.messageId, [...ids]))
      .returning({ messageId: messages.messageId });
    if (found.length > 0) {
      await tx.insert(moderationEvents).values(found.map(({ messageId }) => ({ messageId, action, operator, at })));
    }
    return new Set(found.map((r) => r.messageId));
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
  return db
    .select({
      messageId: messages.messageId,
      author: users.username,
      pubDate: messages.pubDate,
      flagged: messages.flagged,
      text: messages.text,
    })
    .from(messages)
    .innerJoin(users, eq(users.userId, messages.authorId))
    .where(
      and(
        filter.username === undefined ? undefined : eq(users.username, filter.username),
        filter.flaggedOnly ? eq(messages.flagged, true) : undefined,
        filter.before === undefined ? undefined : lt(messages.messageId, filter.before),
      ),
    )
    .orderBy(desc(messages.messageId))
    .limit(filter.limit);
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
