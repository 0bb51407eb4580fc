// How the replicas follow a move to a new database without a redeploy.
// DATABASE_URL lists the database and, for a move, the one after it:
// `postgres://minitwit:…@old:5432,new:5432/minitwit`. A replica uses the
// first server that no move has retired. When `minitwit replicate cutover`
// fences the old one (fence.ts), a write there fails with the fence's error;
// the replica then holds that write, polls the fence until the cutover
// completes, switches its pool to the next server and runs the held writes
// there. A request during the switch waits (up to MOVE_WAIT_MS)
// and then succeeds, instead of failing. A replica whose database was
// retired and that lists no next server says so, and is not ready.
//
// Retrying is safe because the fence refuses a write before it has any
// effect, and a transaction the fence refused was rolled back whole.
import type postgres from "postgres";
import { redactUrl, serverUrls } from "../config/postgres-url";
import type { Logger } from "../observability/log";
import { connectAdmin, runOn } from "./admin";
import { isFenceRefusal, readFence } from "./fence";

/** How long a statement waits for a move to complete before its error is returned (503). */
export const MOVE_WAIT_MS = 10_000;
/** How often the fence is read while a move is underway. */
const FENCE_POLL_MS = 25;
/** How often an idle replica looks for a fence: a replica that only reads would not notice one otherwise. */
const FENCE_CHECK_MS = 1_000;

export interface FollowingClient {
  /** A postgres.js client for drizzle and the fixed statements: it always reaches the current server. */
  readonly sql: postgres.Sql;
  /** Why this replica cannot serve (its database was retired and it has nowhere to go), or null. */
  problem(): string | null;
  close(): Promise<void>;
}

/**
 * Opens a client on the first of `servers` (single-server URLs) that is not
 * retired, and follows moves from then on. `connect` makes a postgres.js
 * client for one server; `nameOf` names a server in logs, without secrets.
 */
export async function followingClient(
  servers: readonly string[],
  connect: (server: string) => postgres.Sql,
  nameOf: (server: string) => string,
  log: Logger,
): Promise<FollowingClient> {
  let index = 0;
  let client = connect(servers[0] as string);
  const first = client;
  let problem: string | null = null;
  /** Settles when a move in progress is over (switched, lifted, or given up); null when none is. */
  let moving: Promise<void> | null = null;
  let closed = false;

  const switchTo = async (next: number) => {
    const old = client;
    client = connect(servers[next] as string);
    // drizzle set its type parsers on the first client; every later one needs the same.
    Object.assign(client.options.parsers, first.options.parsers);
    Object.assign(client.options.serializers, first.options.serializers);
    index = next;
    log.warn({ from: nameOf(servers[next - 1] as string), to: nameOf(servers[next] as string) }, "database moved");
    await old.end({ timeout: 5 }).catch(() => {});
  };

  /** What to do about the fence on the current server: switch, wait, or report it retired. */
  const follow = async (): Promise<"switched" | "fenced" | "open" | "retired"> => {
    const fence = await readFence(runOn(client));
    if (fence === null) return "open";
    if (fence.completedAt === null) return "fenced";
    if (index + 1 < servers.length) {
      await switchTo(index + 1);
      return "switched";
    }
    problem =
      `the database ${nameOf(servers[index] as string)} was retired by a move to a new database ` +
      "(minitwit replicate cutover); add the new server to DATABASE_URL";
    return "retired";
  };

  /** Starts waiting out a move, once; the writes the fence refused hold until it is over. */
  const noticeMove = (): Promise<void> => {
    moving ??= (async () => {
      const deadline = Date.now() + MOVE_WAIT_MS;
      try {
        while (Date.now() < deadline && !closed) {
          const state = await follow().catch(() => "fenced" as const);
          if (state !== "fenced") return;
          await Bun.sleep(FENCE_POLL_MS);
        }
      } finally {
        moving = null;
      }
    })();
    return moving;
  };

  /** Runs `op` on the current server, again after a move when the fence refused it. */
  const run = async <T>(op: (sql: postgres.Sql) => Promise<T>): Promise<T> => {
    const deadline = Date.now() + MOVE_WAIT_MS;
    for (;;) {
      // Statements are not held while the move runs: reads of the fenced
      // server stay consistent, and writes there fail at once and wait below.
      const used = client;
      try {
        return await op(used);
      } catch (err) {
        if (!isFenceRefusal(err) || Date.now() >= deadline || problem !== null) throw err;
        if (used === client) await noticeMove();
      }
    }
  };

  // Start on the first server not retired: a replica restarted after a move skips the old one.
  for (let state = await follow().catch(() => "open"); state === "switched"; ) {
    state = await follow().catch(() => "open");
  }
  const watch = setInterval(() => {
    if (moving !== null || problem !== null) return;
    readFence(runOn(client)).then(
      (fence) => (fence !== null ? noticeMove() : undefined),
      () => {}, // unreachable: the requests say so, and readiness pings
    );
  }, FENCE_CHECK_MS);
  watch.unref();

  return {
    sql: followingSql(first, run, () => client),
    problem: () => problem,
    async close() {
      closed = true;
      clearInterval(watch);
      await client.end({ timeout: 5 });
    },
  };
}

type Runner = <T>(op: (sql: postgres.Sql) => Promise<T>) => Promise<T>;

/**
 * The part of a postgres.js client that drizzle and the fixed statements
 * use: `unsafe` (lazy, with `.values()`, as postgres.js's own), `begin`, and
 * `options` (drizzle sets its type parsers there).
 */
function followingSql(first: postgres.Sql, run: Runner, current: () => postgres.Sql): postgres.Sql {
  const unsafe = (text: string, params?: unknown[], options?: postgres.UnsafeQueryOptions) => {
    const send = (values: boolean) =>
      run((sql) => {
        const query = sql.unsafe(text, params as postgres.ParameterOrJSON<never>[], options);
        return values ? query.values() : query;
      });
    return {
      // biome-ignore lint/suspicious/noThenProperty: a lazy query, as postgres.js's own: it runs when awaited.
      then: (resolve: (rows: unknown) => unknown, reject: (err: unknown) => unknown) =>
        send(false).then(resolve, reject),
      values: () => send(true),
    };
  };
  return {
    unsafe,
    begin: (...args: unknown[]) => run((sql) => (sql.begin as (...a: unknown[]) => Promise<unknown>)(...args)),
    get options() {
      return current().options ?? first.options;
    },
  } as unknown as postgres.Sql;
}

/**
 * An operator command's connection to the database MiniTwit uses now: the
 * first server of `url` that no move has retired. A database a move is
 * leaving right now is refused, so a backup never copies one that is about
 * to stop taking writes, nor one that already has.
 */
export async function connectCurrent(url: string, applicationName: string): Promise<postgres.Sql> {
  const servers = serverUrls(url);
  for (const [i, server] of servers.entries()) {
    const sql = await connectAdmin(server, applicationName, "cannot reach the database");
    const fence = await readFence(runOn(sql)).catch(async (err) => {
      await sql.end({ timeout: 0 });
      throw err;
    });
    if (fence === null) return sql;
    await sql.end({ timeout: 5 });
    if (fence.completedAt === null) {
      throw new Error(
        `the database ${redactUrl(server)} is being moved to a new one (minitwit replicate cutover): ` +
          "it no longer takes writes; run this again once the cutover is done",
      );
    }
    if (i + 1 === servers.length) {
      throw new Error(
        `the database ${redactUrl(server)} was retired by a move to a new database ` +
          `(at ${fence.completedAt.toISOString()}); add the new server to DATABASE_URL`,
      );
    }
  }
  throw new Error("DATABASE_URL names no server");
}
