// Queries on users.
import { eq, sql } from "drizzle-orm";
import { users } from "../../db/schema";
import type { Db } from "../database";
import { preparedPer } from "./prepared";

export interface User {
  readonly userId: number;
  readonly username: string;
  readonly email: string;
  readonly pwHash: string;
}

const byName = preparedPer((db) =>
  db
    .select()
    .from(users)
    .where(eq(users.username, sql.placeholder("username")))
    .prepare("user_by_name"),
);
// Through the unique index on lower(username) (migration 0004).
const byNameIgnoringCase = preparedPer((db) =>
  db
    .select({ userId: users.userId })
    .from(users)
    .where(sql`lower(${users.username}) = lower(${sql.placeholder("username")})`)
    .prepare("user_by_name_ignoring_case"),
);

/** The user with exactly this name (names are stored NFC-normalised, so the name asked for is too). */
export async function userByName(db: Db, username: string): Promise<User | null> {
  const [user] = await byName(db).execute({ username: username.normalize("NFC") });
  return user ?? null;
}

/** Whether a user's name equals this one ignoring case (what makes a name taken). */
export async function usernameTaken(db: Db, username: string): Promise<boolean> {
  const [found] = await byNameIgnoringCase(db).execute({ username });
  return found !== undefined;
}

/** Creates a user; null when the username is taken (decided by the unique indexes, so races are safe). */
export async function createUser(
  db: Db,
  fields: { username: string; email: string; pwHash: string },
): Promise<number | null> {
  const [created] = await db.insert(users).values(fields).onConflictDoNothing().returning({ userId: users.userId });
  return created?.userId ?? null;
}

export async function updatePasswordHash(db: Db, userId: number, pwHash: string): Promise<void> {
  await db.update(users).set({ pwHash }).where(eq(users.userId, userId));
}
