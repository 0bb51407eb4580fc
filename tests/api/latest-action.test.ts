// The `latest` value's write loop against a real PostgreSQL: the row always
// ends up holding the last value received, writes are coalesced and spaced,
// and a reader or a shutdown never waits for the spacing.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { loadConfig } from "../../src/config/settings";
import { applyMigrations } from "../../src/database/migrate";
import { type Database, type Db, openDatabase } from "../../src/database/open";
import { LatestActionTracker } from "../../src/http/latest-action";
import { createLogger } from "../../src/observability/log";
import { readLatestAction } from "../../src/store/latest-action";
import { freshDatabase } from "../support/postgres";

let database: Database;
const log = createLogger("silent");

beforeAll(async () => {
  database = await openDatabase(loadConfig({ DATABASE_URL: await freshDatabase(), SIMULATOR_TOKEN: "x" }), log);
  await applyMigrations(database.db);
});
afterAll(() => database.close());

/** The database with each statement sent on its driver (the tracker's one way in) passed through `around`. */
function intercepted(db: Db, around: (execute: () => Promise<unknown>) => Promise<unknown>): Db {
  const client = new Proxy((db as unknown as { $client: object }).$client, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (key !== "unsafe" || typeof value !== "function") return value;
      return (...args: unknown[]) => around(() => value.apply(target, args));
    },
  });
  return new Proxy(db, {
    get(target, key, receiver) {
      return key === "$client" ? client : Reflect.get(target, key, receiver);
    },
  });
}

/** The database, counting the statements sent through it. */
function counted(db: Db): { db: Db; statements: () => number } {
  let statements = 0;
  const proxy = intercepted(db, (execute) => {
    statements++;
    return execute();
  });
  return { db: proxy, statements: () => statements };
}

test("a burst of values is stored as its last one, in at most two writes", async () => {
  const { db, statements } = counted(database.db);
  const tracker = new LatestActionTracker(db, log);
  for (let i = 1; i <= 1_000; i++) tracker.record(i);
  await tracker.flush();
  expect(await readLatestAction(database.db)).toBe(1_000);
  expect(statements()).toBeGreaterThanOrEqual(1);
  expect(statements()).toBeLessThanOrEqual(2);
});

test("values arriving one by one are written at most once per interval", async () => {
  const { db, statements } = counted(database.db);
  const tracker = new LatestActionTracker(db, log, 50);
  const started = performance.now();
  for (let i = 1; i <= 40; i++) {
    tracker.record(10_000 + i);
    await Bun.sleep(5);
  }
  await tracker.flush();
  const elapsed = performance.now() - started;
  expect(await readLatestAction(database.db)).toBe(10_040);
  // One write at once, then at most one per 50 ms, then the flush's.
  expect(statements()).toBeGreaterThanOrEqual(1);
  expect(statements()).toBeLessThanOrEqual(Math.ceil(elapsed / 50) + 2);
  expect(statements()).toBeLessThan(20);
});

test("a reader gets the newest value without waiting out the interval", async () => {
  const tracker = new LatestActionTracker(database.db, log, 60_000);
  tracker.record(1);
  await tracker.flush();
  tracker.record(2);
  // The loop now pauses a minute before its next write; current() cuts that short.
  const started = performance.now();
  expect(await tracker.current()).toBe(2);
  expect(performance.now() - started).toBeLessThan(10_000);
  expect(tracker.written()).toBe(2);
});

test("a failed write does not stop the next value from being stored", async () => {
  let failing = true;
  const flaky = intercepted(database.db, (execute) =>
    failing ? Promise.reject(new Error("database away")) : execute(),
  );
  const tracker = new LatestActionTracker(flaky, log, 0);
  tracker.record(777);
  await tracker.flush();
  expect(tracker.written()).not.toBe(777);
  failing = false;
  tracker.record(778);
  await tracker.flush();
  expect(await readLatestAction(database.db)).toBe(778);
});
