// Web sessions. Rows are found by the SHA-256 of the session id the cookie
// carries; the id itself is never stored.
import { and, eq, gt, sql } from "drizzle-orm";
import { sessions, users } from "../../db/schema";
import { purgeExpired } from "../database/expired-rows";
import type { Db } from "../database/open";
import { preparedPer } from "../database/queries";

export interface SessionUser {
  readonly userId: number;
  readonly username: string;
}

// One statement per signed-in page: the session's primary key, then the user's.
const userOfSession = preparedPer((db) =>
  db
    .select({ userId: users.userId, username: users.username })
    .from(sessions)
    .innerJoin(users, eq(users.userId, sessions.userId))
    .where(and(eq(sessions.idHash, sql.placeholder("idHash")), gt(sessions.expiresAt, sql.placeholder("now"))))
    .prepare("user_of_session"),
);

/** The user a live session belongs to, or null when it is unknown, ended or expired. `now` in unix seconds. */
export async function sessionUser(db: Db, idHash: string, now: number): Promise<SessionUser | null> {
  const [user] = await userOfSession(db).execute({ idHash, now });
  return user ?? null;
}

export async function createSession(
  db: Db,
  session: { idHash: string; userId: number; createdAt: number; expiresAt: number },
): Promise<void> {
  await db.insert(sessions).values(session);
}

export async function deleteSession(db: Db, idHash: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.idHash, idHash));
}

/** Deletes up to `limit` expired sessions; returns how many. */
export function purgeExpiredSessions(db: Db, now: number, limit: number): Promise<number> {
  return purgeExpired(db, { table: sessions, key: sessions.idHash, expiresAt: sessions.expiresAt }, now, limit);
}
