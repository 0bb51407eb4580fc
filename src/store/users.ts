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

export async function userByName(db: Db, username: string): Promise<User | null> {
  const [user] = await byName(db).execute({ username });
  return user ?? null;
}

/** Creates a user; null when the username is taken (decided by the unique index, so races are safe). */
export async function createUser(
  db: Db,
  fields: { username: string; email: string; pwHash: string },
): Promise<number | null> {
  const [created] = await db
    .insert(users)
    .values(fields)
    .onConflictDoNothing({ target: users.username })
    .returning({ userId: users.userId });
  return created?.userId ?? null;
}

export async function updatePasswordHash(db: Db, userId: number, pwHash: string): Promise<void> {
  await db.update(users).set({ pwHash }).where(eq(users.userId, userId));
}
