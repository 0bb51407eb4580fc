// `minitwit seed`: fills an empty PostgreSQL database with a synthetic data
// set (by default 10,000 users, 1,000,000 messages and a heavy-tailed follow
// graph) for benchmarks and demos. Rows are streamed through COPY, which
// loads a million messages in seconds where row-by-row inserts would take
// minutes. Every user gets the same password, hashed once with argon2id.
//
// The load is one transaction on one connection, done the way PostgreSQL's
// manual advises for populating a database: the tables are locked and
// emptied, the foreign keys and secondary indexes are dropped, rows are
// copied in (frozen, so no later vacuum rewrites them), and then the indexes
// are built and the foreign keys checked once each, from the definitions
// read from the catalog before dropping them. Checking a foreign key per row
// and growing three indexes row by row made the same load seven times slower. Any
// failure rolls everything back, schema included.
import { once } from "node:events";
import { finished } from "node:stream/promises";
import type postgres from "postgres";
import { hashPassword } from "../accounts/passwords/hashing";
import {
  connectAdmin,
  firstTableWithRows,
  HoldsDataError,
  moveSequencesPastRows,
  quoteIdent,
  runOn,
} from "../database/admin";
import type { Database } from "../database/open";
import {
  copyField,
  emailOf,
  followCounts,
  followeesOf,
  generateUsernames,
  messageText,
  Popularity,
  prng,
} from "./data";

export interface SeedOptions {
  readonly users: number;
  readonly messages: number;
  /** Every seeded user signs in with this password. */
  readonly password: string;
  /** The PRNG seed: the same seed yields the same data set. */
  readonly seed: number;
  /** Replace whatever the database holds. */
  readonly force: boolean;
  /** Messages are spread over the year before this time (unix seconds). */
  readonly now: number;
  readonly progress?: (line: string) => void;
}

export interface SeedResult {
  readonly users: number;
  readonly follows: number;
  readonly messages: number;
  readonly flagged: number;
  /** The user who follows the most accounts, for "my timeline" benchmarks. */
  readonly heaviestFollower: { readonly username: string; readonly follows: number };
  /** The user with the most messages, for deep pages of a user's timeline. */
  readonly busiestAuthor: { readonly username: string; readonly messages: number };
  readonly seconds: number;
}

// One in five hundred messages is flagged, so the timelines' partial indexes have something to skip.
const FLAGGED_SHARE = 0.002;
const YEAR_S = 365 * 24 * 3600;
// COPY data is sent in chunks of about this many characters.
const CHUNK = 1 << 16;

export async function seedDatabase(
  database: Database,
  databaseUrl: string | null,
  options: SeedOptions,
): Promise<SeedResult> {
  if (databaseUrl === null || database.driver !== "postgres") {
    throw new Error("seed needs a PostgreSQL database: set DATABASE_URL or --database-url");
  }
  const started = performance.now();
  const say = options.progress ?? (() => {});
  const random = prng(options.seed);
  const names = generateUsernames(options.users, random);
  const popularity = new Popularity(options.users, random);
  const counts = followCounts(options.users, random);
  const authored = new Int32Array(options.users);
  let flagged = 0;
  const pwHash = await hashPassword(options.password);
  const sql = await connectAdmin(databaseUrl, "minitwit-seed", "cannot reach the database");
  try {
    const loaded = await sql.begin(async (tx) => {
      await tx.unsafe(`lock table ${TABLES.join(", ")} in access exclusive mode`);
      const held = options.force ? null : await firstTableWithRows(runOn(tx), TABLES);
      if (held !== null) throw HoldsDataError.forTable("the database", held);
      // Also what lets COPY freeze the rows: the tables are new in this transaction.
      await tx.unsafe(`truncate ${TABLES.join(", ")} restart identity`);
      await tx.unsafe("set local maintenance_work_mem = '256MB'");
      const deferred = await dropForLoad(tx);

      const step = async (what: string, target: string, lines: Iterable<string>) => {
        const begun = performance.now();
        const count = await copyLines(tx, target, lines);
        say(`${what}: ${count} rows in ${seconds(begun)} s`);
        return count;
      };
      await step("users", "users (user_id, username, email, pw_hash)", userLines(names, pwHash));
      const follows = await step(
        "follows",
        "followers (who_id, whom_id)",
        followLines(counts, options.users, popularity, random),
      );
      const messageRows = messageLines(options, popularity, random, (author, isFlagged) => {
        authored[author] = (authored[author] as number) + 1;
        if (isFlagged) flagged++;
      });
      const messages = await step("messages", "messages (message_id, author_id, text, pub_date, flagged)", messageRows);

      const begun = performance.now();
      for (const statement of deferred) await tx.unsafe(statement);
      say(`indexes and foreign keys: ${seconds(begun)} s`);
      // Rows came with their ids: move the sequences past them.
      await moveSequencesPastRows(runOn(tx), TABLES);
      return { follows, messages };
    });
    const begun = performance.now();
    // Statistics for the planner, and the visibility map for index-only scans.
    await sql.unsafe(`vacuum (analyze) ${TABLES.join(", ")}`);
    say(`vacuum and analyze: ${seconds(begun)} s`);

    const heaviest = indexOfMax(counts);
    const busiest = indexOfMax(authored);
    return {
      users: options.users,
      follows: loaded.follows,
      messages: loaded.messages,
      flagged,
      heaviestFollower: { username: names[heaviest] as string, follows: counts[heaviest] as number },
      busiestAuthor: { username: names[busiest] as string, messages: authored[busiest] as number },
      seconds: Number(seconds(started)),
    };
  } finally {
    await sql.end();
  }
}

/**
 * The tables a seed replaces. moderation_events refers to messages and
 * sessions to users, so they are emptied with them: a session kept across a
 * seed would sign its holder in as whoever gets that user id next.
 */
const TABLES = ["users", "followers", "messages", "moderation_events", "sessions"];

/**
 * Drops the foreign keys and secondary indexes of the tables being loaded and
 * returns the statements that recreate them, exactly as the catalog has them.
 * Primary keys and unique constraints stay: ids arrive in ascending order, so
 * maintaining those costs little, and other constraints depend on them.
 */
async function dropForLoad(tx: postgres.TransactionSql): Promise<string[]> {
  const foreignKeys = await tx<{ table: string; name: string; definition: string }[]>`
    select conrelid::regclass::text as table, conname as name, pg_get_constraintdef(oid) as definition
    from pg_constraint
    where contype = 'f' and conrelid in ('followers'::regclass, 'messages'::regclass)`;
  const indexes = await tx<{ name: string; definition: string }[]>`
    select indexrelid::regclass::text as name, pg_get_indexdef(indexrelid) as definition
    from pg_index
    where indrelid in ('users'::regclass, 'followers'::regclass, 'messages'::regclass)
      and not exists (select 1 from pg_constraint c where c.conindid = pg_index.indexrelid)`;
  for (const fk of foreignKeys) await tx.unsafe(`alter table ${fk.table} drop constraint ${quoteIdent(fk.name)}`);
  for (const index of indexes) await tx.unsafe(`drop index ${index.name}`);
  return [
    ...indexes.map((index) => index.definition),
    ...foreignKeys.map((fk) => `alter table ${fk.table} add constraint ${quoteIdent(fk.name)} ${fk.definition}`),
  ];
}

function seconds(since: number): string {
  return ((performance.now() - since) / 1000).toFixed(1);
}

function* userLines(names: readonly string[], pwHash: string): Generator<string> {
  for (const [i, name] of names.entries()) {
    yield `${i + 1}\t${copyField(name)}\t${copyField(emailOf(name, i))}\t${copyField(pwHash)}\n`;
  }
}

function* followLines(
  counts: Int32Array,
  users: number,
  popularity: Popularity,
  random: () => number,
): Generator<string> {
  for (let who = 0; who < users; who++) {
    for (const whom of followeesOf(who, counts[who] as number, users, popularity, random)) {
      yield `${who + 1}\t${whom + 1}\n`;
    }
  }
}

/** Messages in id order, oldest first, so ids and dates grow together as they do in production. */
function* messageLines(
  options: SeedOptions,
  popularity: Popularity,
  random: () => number,
  tally: (author: number, flagged: boolean) => void,
): Generator<string> {
  const start = options.now - YEAR_S;
  for (let i = 0; i < options.messages; i++) {
    const author = popularity.pick();
    const isFlagged = random() < FLAGGED_SHARE;
    tally(author, isFlagged);
    const pubDate = start + Math.floor((i * YEAR_S) / Math.max(1, options.messages));
    yield `${i + 1}\t${author + 1}\t${copyField(messageText(random))}\t${pubDate}\t${isFlagged ? "t" : "f"}\n`;
  }
}

/** Streams lines into `copy <target> from stdin`, respecting back-pressure; returns the line count. */
async function copyLines(sql: postgres.TransactionSql, target: string, lines: Iterable<string>): Promise<number> {
  const stream = await sql.unsafe(`copy ${target} from stdin with (freeze)`).writable();
  let chunk = "";
  let count = 0;
  for (const line of lines) {
    chunk += line;
    count++;
    if (chunk.length >= CHUNK) {
      if (!stream.write(chunk)) await once(stream, "drain");
      chunk = "";
    }
  }
  stream.end(chunk);
  await finished(stream);
  return count;
}

function indexOfMax(values: Int32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}
