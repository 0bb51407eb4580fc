// Queries on users.
import { eq, sql } from "drizzle-orm";
import { users } from "../../db/schema";
import type { Db } from "../database/open";
import { fixedStatement, preparedPer } from "../database/queries";

export interface User {
  readonly userId: number;
  readonly username: string;
  readonly email: string;
  readonly pwHash: string;
  /** A name registered before migration 0005 that folds like an older one (db/schema.ts). */
  readonly usernameTwin: boolean;
}

const byName = preparedPer((db) =>
  db
    .select({
      userId: users.userId,
      username: users.username,
      email: users.email,
      pwHash: users.pwHash,
      usernameTwin: users.usernameTwin,
    })
    .from(users)
    .where(eq(users.username, sql.placeholder("username")))
    .prepare("user_by_name"),
);
// Through the unique index on the folded name (migration 0005), whose rows are
// those that are not twins: every folded name has exactly one such holder.
const byFoldedName = preparedPer((db) =>
  db
    .select({ userId: users.userId })
    .from(users)
    .where(
      sql`${users.usernameFolded} = fold_username(${sql.placeholder("username")}::text) and not ${users.usernameTwin}`,
    )
    .prepare("user_by_folded_name"),
);

/** The user with exactly this name (names are stored NFC-normalised, so the name asked for is too). */
export async function userByName(db: Db, username: string): Promise<User | null> {
  const [user] = await byName(db).execute({ username: username.normalize("NFC") });
  return user ?? null;
}

/** Whether a user's name folds like this one (NFKC and full case folding: what makes a name taken). */
export async function usernameTaken(db: Db, username: string): Promise<boolean> {
  const [found] = await byFoldedName(db).execute({ username });
  return found !== undefined;
}

// A fixed text rather than drizzle's builder: a sign-up is rare enough that
// building the insert ran as cold code each time (docs/performance.md).
const insertUser = fixedStatement<{ user_id: number }>(
  `insert into users (username, email, pw_hash) values ($1, $2, $3)
   on conflict do nothing
   returning user_id`,
);

/** Creates a user; null when the username is taken (decided by the unique indexes, so races are safe). */
export async function createUser(
  db: Db,
  fields: { username: string; email: string; pwHash: string },
): Promise<number | null> {
  const [created] = await insertUser(db, fields.username, fields.email, fields.pwHash);
  return created === undefined ? null : Number(created.user_id);
}

export async function updatePasswordHash(db: Db, userId: number, pwHash: string): Promise<void> {
  await db.update(users).set({ pwHash }).where(eq(users.userId, userId));
}
