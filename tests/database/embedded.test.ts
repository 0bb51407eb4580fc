// The embedded database's own settings. PGlite's initdb writes PostgreSQL's
// default shared_buffers of 128 MB into postgresql.conf, and the WebAssembly
// engine allocates and zeroes all of it at every start: MiniTwit starts it
// with a smaller buffer cache, on databases created before that choice too.
import { afterAll, expect, test } from "bun:test";
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { loadConfig } from "../../src/config/settings";
import { openDatabase } from "../../src/database/open";
import { rows } from "../../src/database/queries";
import { createLogger } from "../../src/observability/log";

const scratch = mkdtempSync(join(tmpdir(), "minitwit-embedded-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function sharedBuffers(dataDir: string): Promise<string> {
  const database = await openDatabase(loadConfig({ DATA_DIR: dataDir }), createLogger("silent"));
  try {
    const [row] = await rows<{ shared_buffers: string }>(database.db, sql`show shared_buffers`);
    return row?.shared_buffers ?? "";
  } finally {
    await database.close();
  }
}

test("the embedded database starts with a 16 MB buffer cache, not initdb's 128 MB", async () => {
  const dataDir = join(scratch, "fresh");
  expect(await sharedBuffers(dataDir)).toBe("16MB");
  // A second start, after postgresql.conf has been edited as an older
  // database's might say: the command line still wins.
  appendFileSync(join(dataDir, "pglite", "postgresql.conf"), "\nshared_buffers = 128MB\n");
  expect(await sharedBuffers(dataDir)).toBe("16MB");
}, 60_000);
