// The users and page cursors the read benchmarks aim at in a seeded
// database: the busiest author (a long own timeline), users who follow about
// 5 and about 500 accounts and the one who follows the most ("my timeline"), and
// the `before` cursors of page 1,000 of each timeline (keyset pagination:
// page N starts below the last id shown on page N-1).
import postgres from "postgres";

const PAGE = 30;

export interface Reader {
  readonly userId: number;
  readonly username: string;
  readonly follows: number;
  /** `?before=` of page 1,000 of their "my timeline", or null when it has fewer pages. */
  readonly page1000Before: number | null;
}

export interface Subjects {
  readonly author: { readonly userId: number; readonly username: string; readonly messages: number };
  readonly authorPage1000Before: number | null;
  readonly publicPage1000Before: number | null;
  /** The user whose follow count is closest to 500. */
  readonly follower500: Reader;
  readonly heaviestFollower: Reader;
  /** The user whose follow count is closest to 5: "my timeline" probes their authors one by one. */
  readonly follower5: Reader;
}

export async function pickSubjects(url: string): Promise<Subjects> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [author] = await sql<{ user_id: number; username: string; n: string }[]>`
      select u.user_id, u.username, count(*) as n from messages m join users u on u.user_id = m.author_id
      where not m.flagged group by 1, 2 order by 3 desc, 1 limit 1`;
    if (author === undefined) throw new Error("the database holds no messages; seed it first");
    const cursor = async (authors: postgres.PendingQuery<postgres.Row[]> | null) => {
      const [row] = authors
        ? await sql`select message_id from messages where not flagged and author_id in ${authors}
                    order by message_id desc offset ${999 * PAGE - 1} limit 1`
        : await sql`select message_id from messages where not flagged
                    order by message_id desc offset ${999 * PAGE - 1} limit 1`;
      return row === undefined ? null : Number(row.message_id);
    };
    const reader = async (order: postgres.PendingQuery<postgres.Row[]>): Promise<Reader> => {
      const [r] = await sql<{ who_id: number; username: string; n: string }[]>`
        select f.who_id, u.username, count(*) as n from followers f join users u on u.user_id = f.who_id
        group by 1, 2 order by ${order}, 1 limit 1`;
      if (r === undefined) throw new Error("the database holds no follows; seed it first");
      const page1000Before = await cursor(
        sql`(select whom_id from followers where who_id = ${r.who_id} union select ${r.who_id}::int)`,
      );
      return { userId: r.who_id, username: r.username, follows: Number(r.n), page1000Before };
    };
    return {
      author: { userId: author.user_id, username: author.username, messages: Number(author.n) },
      authorPage1000Before: await cursor(sql`(${author.user_id}::int)`),
      publicPage1000Before: await cursor(null),
      follower500: await reader(sql`abs(count(*) - 500)`),
      heaviestFollower: await reader(sql`count(*) desc`),
      follower5: await reader(sql`abs(count(*) - 5)`),
    };
  } finally {
    await sql.end();
  }
}
