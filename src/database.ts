// Opens the database: postgres.js with a pool when DATABASE_URL is set, else
// an embedded PGlite in DATA_DIR. Both are wrapped by drizzle with one schema,
// so the store sees a single `Db` type.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
// The PGlite runtime is embedded into the compiled binary as files; without
// passing them explicitly PGlite looks for them next to its JS and fails.
import initdbWasmPath from "@electric-sql/pglite/initdb.wasm" with { type: "file" };
import fsBundlePath from "@electric-sql/pglite/pglite.data" with { type: "file" };
import pgliteWasmPath from "@electric-sql/pglite/pglite.wasm" with { type: "file" };
import { sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "../db/schema";
import type { Config } from "./config";
import { redactUrl } from "./config";
import type { Logger } from "./log";

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  readonly db: Db;
  readonly driver: "postgres" | "pglite";
  /** Where the data lives, safe to log. */
  readonly location: string;
  /** Pool figures for metrics; PGlite is one connection. */
  poolStats(): { size: number; idle: number };
  close(): Promise<void>;
}

export async function openDatabase(config: Config, log: Logger): Promise<Database> {
  if (config.databaseUrl !== null) return openPostgres(config.databaseUrl, config.dbPoolMax, log);
  return openPglite(join(config.dataDir, "pglite"));
}

function openPostgres(url: string, max: number, log: Logger): Database {
  const client = postgres(url, {
    max,
    idle_timeout: 60,
    connect_timeout: 5,
    onnotice: (notice) => log.debug({ notice: notice.message }, "postgres notice"),
    connection: { application_name: "minitwit" },
  });
  return {
    db: drizzlePostgres(client, { schema }) as unknown as Db,
    driver: "postgres",
    location: redactUrl(url),
    poolStats: () => {
      // postgres.js keeps its connection queues private; read them defensively.
      const state = (client as unknown as { options: { max: number } }).options;
      return { size: state.max, idle: 0 };
    },
    close: () => client.end({ timeout: 5 }),
  };
}

async function openPglite(dir: string): Promise<Database> {
  mkdirSync(dir, { recursive: true });
  const [pgliteWasmModule, initdbWasmModule] = await Promise.all([
    WebAssembly.compile(await Bun.file(pgliteWasmPath).arrayBuffer()),
    WebAssembly.compile(await Bun.file(initdbWasmPath).arrayBuffer()),
  ]);
  const client = await PGlite.create({
    dataDir: dir,
    pgliteWasmModule,
    initdbWasmModule,
    fsBundle: Bun.file(fsBundlePath),
  });
  return {
    db: drizzlePglite(client, { schema }) as unknown as Db,
    driver: "pglite",
    location: dir,
    poolStats: () => ({ size: 1, idle: 1 }),
    close: () => client.close(),
  };
}

/** Round trip to the database; throws when it is unreachable. */
export async function ping(db: Db): Promise<void> {
  await db.execute(sql`select 1`);
}
