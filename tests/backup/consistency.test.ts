// A backup taken while the API is being written to is one point in time:
// restored, it has no message without its author and no follow of a missing
// user, its row counts are the manifest's, and each writer's sequential
// history appears as an unbroken prefix (nothing later without everything
// earlier).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { runBackup } from "../../src/backup/create";
import { runRestore } from "../../src/backup/restore";
import { backupConfig, client, orphans, rowCounts, seedBackupData, uniquePrefix } from "../support/backup";
import { freshDatabase } from "../support/postgres";
import { startS3, type TestS3 } from "../support/s3";
import { apiClient, startTestServer, type TestServer } from "../support/server";

const WRITERS = 4;
// Enough existing messages that the backup takes a while, so writes land while it runs.
const SEEDED_MESSAGES = 80_000;

let s3: TestS3;
let app: TestServer;
let url: string;

beforeAll(async () => {
  s3 = await startS3();
  app = await startTestServer("postgres");
  url = app.config.databaseUrl as string;
  await seedBackupData(url, SEEDED_MESSAGES);
}, 120_000);

afterAll(async () => {
  await app.stop();
  await s3.stop();
});

/** One writer: registers w<n>_<i>, posts as them, follows w<n>_<i-1>; each step after the previous one succeeded. */
async function writer(n: number, stop: { done: boolean }, acknowledged: number[]): Promise<void> {
  const api = apiClient(app.api);
  for (let i = 0; !stop.done; i++) {
    const name = `w${n}_${i}`;
    const steps = [
      () => api.post("/register", { username: name, email: `${name}@x.org`, pwd: "pw" }),
      () => api.post(`/msgs/${name}`, { content: `message ${i} of writer ${n}` }),
      ...(i > 0 ? [() => api.post(`/fllws/${name}`, { follow: `w${n}_${i - 1}` })] : []),
    ];
    for (const step of steps) {
      const { status, text } = await step();
      if (status !== 204) throw new Error(`writer ${n} got ${status}: ${text}`);
      acknowledged.push(performance.now());
    }
  }
}

test("a backup taken under concurrent writes restores to a consistent point in time", async () => {
  const stop = { done: false };
  const acknowledged: number[] = [];
  const writers = Array.from({ length: WRITERS }, (_, n) => writer(n, stop, acknowledged));
  while (acknowledged.length < 40) await Bun.sleep(10);

  const prefix = uniquePrefix("consistent");
  const started = performance.now();
  const { key, manifest } = await runBackup(backupConfig(s3, prefix, url));
  const finished = performance.now();
  await Bun.sleep(100);
  stop.done = true;
  await Promise.all(writers);
  // Otherwise this test would prove nothing about concurrency.
  expect(acknowledged.filter((t) => t > started && t < finished).length).toBeGreaterThan(0);

  const target = await freshDatabase();
  await runRestore(backupConfig(s3, prefix, target), { which: { key }, force: false });
  expect(await orphans(target)).toEqual({ messages_without_author: 0, follows_of_missing_users: 0 });
  expect(await rowCounts(target, Object.keys(manifest.tables))).toEqual({ ...manifest.tables });
  expect(manifest.tables.messages).toBeGreaterThan(SEEDED_MESSAGES);

  const sql = client(target);
  const users = await sql<{ name: string }[]>`select username as name from users where username like 'w%'`;
  const posted = await sql<{ name: string }[]>`select u.username as name from messages m
    join users u on u.user_id = m.author_id where u.username like 'w%'`;
  await sql.end();
  for (let n = 0; n < WRITERS; n++) {
    const indexes = (rows: { name: string }[]) =>
      rows
        .map((r) => r.name)
        .filter((name) => name.startsWith(`w${n}_`))
        .map((name) => Number(name.slice(`w${n}_`.length)))
        .sort((a, b) => a - b);
    const registered = indexes(users);
    expect(registered).toEqual(registered.map((_, i) => i));
    // Every registered user's message is there, except perhaps the last one's (taken between its two steps).
    expect(indexes(posted)).toEqual(registered.slice(0, indexes(posted).length));
    expect(indexes(posted).length).toBeGreaterThanOrEqual(registered.length - 1);
  }
}, 120_000);
