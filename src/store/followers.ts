// Queries on the follower relation.
import { and, eq, sql } from "drizzle-orm";
import { followers } from "../../db/schema";
import type { Db } from "../database/open";
import { fixedStatement, preparedPer } from "../database/queries";

/** Outcome of a follow change addressed by usernames. */
export type FollowOutcome = "ok" | "unknown-user" | "unknown-target";

type FollowRow = { who: number | null; whom: number | null };

const insertFollowByNames = fixedStatement<FollowRow>(
  `with a as (select user_id from users where username = $1),
        b as (select user_id from users where username = $2),
        ins as (insert into followers (who_id, whom_id)
                select a.user_id, b.user_id from a, b on conflict do nothing)
   select (select user_id from a) as who, (select user_id from b) as whom`,
);

const deleteFollowByNames = fixedStatement<FollowRow>(
  `with a as (select user_id from users where username = $1),
        b as (select user_id from users where username = $2),
        del as (delete from followers using a, b
                where followers.who_id = a.user_id and followers.whom_id = b.user_id)
   select (select user_id from a) as who, (select user_id from b) as whom`,
);

/**
 * `who` follows `whom`, both by name, in one round trip. Following twice keeps
 * one row (the primary key and ON CONFLICT make it idempotent).
 */
export async function followByName(db: Db, who: string, whom: string): Promise<FollowOutcome> {
  const [r] = await insertFollowByNames(db, who, whom);
  return outcome(r);
}

/** `who` stops following `whom`; not following already is fine. */
export async function unfollowByName(db: Db, who: string, whom: string): Promise<FollowOutcome> {
  const [r] = await deleteFollowByNames(db, who, whom);
  return outcome(r);
}

function outcome(r: FollowRow | undefined): FollowOutcome {
  if (r?.who == null) return "unknown-user";
  if (r.whom == null) return "unknown-target";
  return "ok";
}

const selectFollowingNames = fixedStatement<{ name: string | null }>(
  `select f.name from users u
   left join lateral (
     select w.username as name from followers
     join users w on w.user_id = followers.whom_id
     where followers.who_id = u.user_id
     order by followers.whom_id
     limit $2
   ) f on true
   where u.username = $1`,
);

/** Names of the users `username` follows, oldest follow first; null for an unknown user. */
export async function followingNames(db: Db, username: string, limit: number): Promise<string[] | null> {
  const found = await selectFollowingNames(db, username, limit);
  if (found.length === 0) return null;
  return found.flatMap((r) => (r.name === null ? [] : [r.name]));
}

export async function follow(db: Db, whoId: number, whomId: number): Promise<void> {
  await db.insert(followers).values({ whoId, whomId }).onConflictDoNothing();
}

export async function unfollow(db: Db, whoId: number, whomId: number): Promise<void> {
  await db.delete(followers).where(and(eq(followers.whoId, whoId), eq(followers.whomId, whomId)));
}

const following = preparedPer((db) =>
  db
    .select({ whoId: followers.whoId })
    .from(followers)
    .where(and(eq(followers.whoId, sql.placeholder("whoId")), eq(followers.whomId, sql.placeholder("whomId"))))
    .prepare("is_following"),
);

export async function isFollowing(db: Db, whoId: number, whomId: number): Promise<boolean> {
  const [row] = await following(db).execute({ whoId, whomId });
  return row !== undefined;
}
