// Queries on users.
import { eq } from "drizzle-orm";
import { users } from "../../db/schema";
import type { Db } from "../database";

export interface User {
  readonly userId: number;
  readonly username: string;
  readonly email: string;
  readonly pwHash: string;
}

export async function userByName(db: Db, username: string): Promise<User | null> {
  const [user] = await db.select().from(users).where(eq(users.username, username)).limit(1);
  return user ?? null;
}

export async function userById(db: Db, userId: number): Promise<User | null> {
  const [user] = await db.select().from(users).where(eq(users.userId, userId)).limit(1);
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
