// The plans of the app's own queries at scale. Each store function is called
// once through a client that records the SQL it sends, so what is explained
// is exactly what MiniTwit runs, not a copy. The app uses named prepared
// statements, and after five executions PostgreSQL may switch one to its
// generic plan, made without the parameter values (a LIMIT, an author id);
// MiniTwit asks for generic plans outright (POSTGRES_SESSION_SETTINGS). The
// plans shown are made with those same settings: the ones that must hold for
// every user, the author of five messages and of 37,000 alike. Writes are
// explained inside a transaction that is rolled back.
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "../db/schema";
import { type Db, POSTGRES_SESSION_SETTINGS } from "../src/database/open";
import { followByName, followingNames, isFollowing } from "../src/store/followers";
import { writeLatestAction } from "../src/store/latest-action";
import {
  homeTimeline,
  postMessageByUsername,
  publicTimeline,
  timelineByUsername,
  userTimeline,
} from "../src/store/messages";
import { sessionUser } from "../src/store/sessions";
import { userByName } from "../src/store/users";
import { seededDatabase } from "./databases";
import { type BenchPostgres, startBenchPostgres } from "./harness";
import { pickSubjects } from "./subjects";

interface Captured {
  query: string;
  params: unknown[];
}

export interface ExplainOptions {
  readonly users: number;
  readonly messages: number;
  /** An already seeded database to explain on, instead of a fresh one. */
  readonly databaseUrl: string | null;
}

export async function runExplain(options: ExplainOptions): Promise<void> {
  const pg = options.databaseUrl === null ? await startBenchPostgres() : null;
  try {
    const url = options.databaseUrl ?? (await seededDatabase(pg as BenchPostgres, options.users, options.messages));
    const s = await pickSubjects(url);
    let last: Captured | null = null;
    const recorder = postgres(url, {
      max: 1,
      onnotice: () => {},
      debug: (_connection, query, params) => {
        last = { query, params: params as unknown[] };
      },
    });
    const db = drizzle(recorder, { schema }) as unknown as Db;
    const capture = async (run: () => Promise<unknown>) => {
      await run();
      const captured = last as Captured | null;
      if (captured === null) throw new Error("no query was recorded");
      return captured;
    };
    const reader = s.follower500;
    const cases: [string, () => Promise<unknown>, boolean][] = [
      ["GET /public and GET /msgs (public timeline, page 1)", () => publicTimeline(db, { limit: 30 }), false],
      [
        "GET /public?before=… (page 1,000)",
        () => publicTimeline(db, { limit: 30, before: s.publicPage1000Before ?? undefined }),
        false,
      ],
      ["GET /<user>: the user", () => userByName(db, s.author.username), false],
      ["GET /<user> (user timeline, page 1)", () => userTimeline(db, { ...s.author, email: "" }, { limit: 30 }), false],
      [
        "GET /<user>?before=… (page 1,000)",
        () => userTimeline(db, { ...s.author, email: "" }, { limit: 30, before: s.authorPage1000Before ?? undefined }),
        false,
      ],
      ["GET /<user> signed in: the follow box", () => isFollowing(db, reader.userId, s.author.userId), false],
      ["GET /msgs/<user>?no=100", () => timelineByUsername(db, s.author.username, 100), false],
      ["GET /fllws/<user>?no=100", () => followingNames(db, reader.username, 100), false],
      ["GET / signed in: the viewer (session joined to its user)", () => sessionUser(db, "no-such-session", 0), false],
      [
        `GET / (my timeline, ${reader.follows} follows, page 1)`,
        () => homeTimeline(db, reader.userId, { limit: 30 }),
        false,
      ],
      [
        `GET /?before=… (my timeline, ${reader.follows} follows, page 1,000)`,
        () => homeTimeline(db, reader.userId, { limit: 30, before: reader.page1000Before ?? undefined }),
        false,
      ],
      [
        `GET / (my timeline, ${s.heaviestFollower.follows} follows, page 1)`,
        () => homeTimeline(db, s.heaviestFollower.userId, { limit: 30 }),
        false,
      ],
      [
        `GET / (my timeline, ${s.follower5.follows} follows: probing each author)`,
        () => homeTimeline(db, s.follower5.userId, { limit: 30 }),
        false,
      ],
      ["POST /msgs/<user>", () => postMessageByUsername(db, s.author.username, "hello", 1_700_000_000), true],
      ["POST /fllws/<user> follow", () => followByName(db, reader.username, s.author.username), true],
      ["latest (one coalesced write)", () => writeLatestAction(db, 42), true],
    ];
    const explainer = postgres(url, {
      max: 1,
      onnotice: () => {},
      connection: { ...POSTGRES_SESSION_SETTINGS },
    });
    const conn = await explainer.reserve();
    const counts = await conn.unsafe(
      "select (select count(*) from users) as users, (select count(*) from messages) as messages",
    );
    console.log(
      `Plans at ${counts[0]?.users} users and ${counts[0]?.messages} messages (PostgreSQL ${await version(conn)}, ` +
        `${Object.entries(POSTGRES_SESSION_SETTINGS)
          .map(([k, v]) => `${k} = ${v}`)
          .join(", ")}).\n`,
    );
    for (const [i, [title, run, writes]] of cases.entries()) {
      // Writes run only inside the transaction below; record their SQL without committing.
      const captured = writes ? await captureRolledBack(recorder, capture, run) : await capture(run);
      const name = `bench_${i}`;
      await conn.unsafe(`prepare ${name} as ${captured.query}`);
      const execute = `execute ${name}(${captured.params.map(literal).join(", ")})`;
      await conn.unsafe("begin");
      const plan = await conn.unsafe(`explain (analyze, buffers) ${execute}`);
      await conn.unsafe("rollback");
      console.log(`### ${title}\n\n\`\`\`sql\n${captured.query.replace(/\s+/g, " ").trim()}\n\`\`\``);
      console.log(`\n\`\`\`\n${plan.map((r) => r["QUERY PLAN"]).join("\n")}\n\`\`\`\n`);
    }
    conn.release();
    await explainer.end();
    await recorder.end();
  } finally {
    await pg?.stop();
  }
}

async function captureRolledBack(
  recorder: postgres.Sql,
  capture: (run: () => Promise<unknown>) => Promise<Captured>,
  run: () => Promise<unknown>,
): Promise<Captured> {
  // The recorder has one connection: begin/rollback around the call keeps the write uncommitted.
  await recorder.unsafe("begin");
  try {
    return await capture(run);
  } finally {
    await recorder.unsafe("rollback");
  }
}

async function version(conn: postgres.ReservedSql): Promise<string> {
  const [row] = await conn.unsafe("show server_version");
  return String(row?.server_version ?? "?");
}

/** A bound value written into SQL, for EXECUTE of a prepared statement. */
export function literal(value: unknown): string {
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  return `'${String(value).replaceAll("'", "''")}'`;
}
