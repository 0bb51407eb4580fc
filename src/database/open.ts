// Opens the database: postgres.js with a pool when DATABASE_URL is set, else
// an embedded PGlite in DATA_DIR. Both are wrapped by drizzle with one schema,
// so the store sees a single `Db` type.
import { join } from "node:path";
// The PGlite runtime is embedded into the compiled binary as files; without
// passing them explicitly PGlite looks for them next to its JS and fails.
import initdbWasmPath from "@electric-sql/pglite/initdb.wasm" with { type: "file" };
import fsBundlePath from "@electric-sql/pglite/pglite.data" with { type: "file" };
import pgliteWasmPath from "@electric-sql/pglite/pglite.wasm" with { type: "file" };
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "../../db/schema";
import { redactUrl, serverUrls } from "../config/postgres-url";
import type { Config } from "../config/settings";
import type { Logger } from "../observability/log";
import { lockDataDir } from "./data-dir-lock";
import { keepOwnerOnly, secureDataDir } from "./data-dir-permissions";
import { followingClient } from "./follow";
import { holdsDatabase, STAMP_SHIPPED_MIGRATIONS, unpackInitialisedDataDir } from "./pglite-datadir";

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  readonly db: Db;
  readonly driver: "postgres" | "pglite";
  /** Where the data lives, safe to log. */
  readonly location: string;
  /** Pool figures for metrics; PGlite is one connection. */
  poolStats(): { size: number; idle: number };
  /** Why the database cannot serve MiniTwit now, for readiness (a move retired it); null when it can. */
  problem(): string | null;
  close(): Promise<void>;
}

export async function openDatabase(config: Config, log: Logger): Promise<Database> {
  if (config.databaseUrl !== null) return openPostgres(config.databaseUrl, config.dbPoolMax, log);
  return openPglite(config.dataDir, log);
}

/**
 * Session settings of MiniTwit's connections. Each statement is prepared once
 * per connection (see preparedByDefault) and planned once, generically, for
 * every parameter value: the timelines' LIMIT is a parameter, and in the
 * default mode PostgreSQL prices a generic plan for "10% of the table",
 * keeps choosing a custom plan and plans every execution again, which at a
 * million messages was most of PostgreSQL's CPU for GET /public (figures in
 * docs/performance.md, "Figures behind the code"). The queries are written so that their generic plans
 * hold for the author of five messages and of 37,000 alike: `bun run bench
 * explain` prints them. A DATABASE_URL with ?plan_cache_mode=auto overrides this.
 */
export const POSTGRES_SESSION_SETTINGS = { plan_cache_mode: "force_generic_plan" } as const;

async function openPostgres(url: string, max: number, log: Logger): Promise<Database> {
  const connect = (server: string) =>
    preparedByDefault(
      postgres(server, {
        max,
        idle_timeout: 60,
        // Bounded waits when the database is away: requests fail fast with 503
        // instead of piling up, and the pool reconnects by itself afterwards.
        connect_timeout: 2,
        // postgres.js waits before each reconnect, by default up to 20 s, and a
        // request that needs a connection waits with it. Keep that wait short.
        backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 0.5),
        // A migration's WARNING is for the operator (0005 lists usernames that fold alike); other notices are chatter.
        onnotice: (notice) =>
          notice.severity === "WARNING"
            ? log.warn({ notice: notice.message, hint: notice.hint }, "postgres warning")
            : log.debug({ notice: notice.message }, "postgres notice"),
        connection: { application_name: "minitwit", ...POSTGRES_SESSION_SETTINGS },
      }),
    );
  // One client per server of the URL in turn: the replica follows a move (follow.ts).
  const following = await followingClient(serverUrls(url), connect, redactUrl, log);
  return {
    db: drizzlePostgres(following.sql, { schema }) as unknown as Db,
    driver: "postgres",
    location: redactUrl(url),
    poolStats: () => ({ size: max, idle: 0 }),
    problem: following.problem,
    close: following.close,
  };
}

/**
 * PGlite in DATA_DIR/pglite, for this process alone and its user only: the
 * directory is made the owner's (data-dir-permissions.ts) and locked (see
 * data-dir-lock.ts), and released only once PGlite has closed.
 */
async function openPglite(dataDir: string, log: Logger): Promise<Database> {
  secureDataDir(dataDir, log);
  const lock = lockDataDir(dataDir);
  try {
    const client = await createPglite(join(dataDir, "pglite"));
    keepOwnerOnly(dataDir);
    const { drizzle: drizzlePglite } = await import("drizzle-orm/pglite");
    return {
      db: drizzlePglite(client, { schema }) as unknown as Db,
      driver: "pglite",
      location: join(dataDir, "pglite"),
      problem: () => null,
      poolStats: () => ({ size: 1, idle: 1 }),
      close: async () => {
        try {
          await client.close();
          keepOwnerOnly(dataDir);
        } finally {
          lock.release();
        }
      },
    };
  } catch (err) {
    lock.release();
    throw err;
  }
}

/**
 * PGlite's buffer cache. initdb's postgresql.conf asks for PostgreSQL's
 * default of 128 MB, which the WebAssembly engine allocates and zeroes
 * before it answers anything: a third of a start's time and 120 MB of its
 * memory. One connection reading through the operating system's page cache
 * needs far less (figures in docs/performance.md, "The embedded database").
 * Given on the command line, it holds for databases created before it too.
 */
const PGLITE_SHARED_BUFFERS = "16MB";

async function createPglite(dir: string) {
  // Unpacking the initialised database (first start only) runs off the
  // JavaScript thread while PGlite's engine compiles.
  const [pgliteWasmModule, unpacked] = await Promise.all([compileWasm(pgliteWasmPath), unpackInitialisedDataDir(dir)]);
  const { PGlite } = await import("@electric-sql/pglite");
  const client = await PGlite.create({
    dataDir: dir,
    startParams: [...PGlite.defaultStartParams, "-c", `shared_buffers=${PGLITE_SHARED_BUFFERS}`],
    pgliteWasmModule,
    // initdb runs only for a directory that holds files but no database,
    // which PGlite has always initialised in place.
    initdbWasmModule: holdsDatabase(dir) ? undefined : await compileWasm(initdbWasmPath),
    fsBundle: Bun.file(fsBundlePath),
  });
  if (unpacked) {
    await client.exec(STAMP_SHIPPED_MIGRATIONS).catch(async (err: unknown) => {
      await client.close();
      throw new Error("could not stamp the shipped migrations of the embedded database", { cause: err });
    });
  }
  return client;
}

async function compileWasm(path: string): Promise<WebAssembly.Module> {
  return WebAssembly.compile(await Bun.file(path).arrayBuffer());
}

/**
 * drizzle runs every query that was not built with `.prepare(name)` through
 * `client.unsafe(text, params, { prepare: false })`. postgres.js then sends an
 * unnamed statement, and since it must learn the parameter types before it
 * can bind them, it waits for a Describe answer first: two round trips per
 * query, and a fresh parse and plan each time. Named statements are parsed
 * once per connection; every later call is one Bind/Execute round trip. The
 * app's query texts are a small fixed set, so the per-connection statement
 * cache stays small. A DATABASE_URL with `?prepare=false` (for a PgBouncer in
 * transaction mode) still turns them off: postgres.js checks its own option first.
 */
function preparedByDefault(client: postgres.Sql): postgres.Sql {
  const unsafe = client.unsafe;
  const prepared = (query: string, params?: unknown[], options?: postgres.UnsafeQueryOptions) =>
    params !== undefined && params.length > 0
      ? unsafe(query, params as postgres.ParameterOrJSON<never>[], { ...options, prepare: true })
      : unsafe(query, params as postgres.ParameterOrJSON<never>[], options);
  client.unsafe = prepared as typeof client.unsafe;
  return client;
}
