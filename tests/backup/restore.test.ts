// Backup to S3 and restore from it, against real PostgreSQL and a real S3
// protocol server: the restored database is row for row the original, its
// sequences continue, a damaged, tampered or wrongly keyed backup is refused
// before it can change anything, and both commands stream: their memory does
// not grow with the size of the backup.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { measureBackupMemory } from "../../bench/backup-memory";
import { runBackup } from "../../src/backup/create";
import { runRestore } from "../../src/backup/restore";
import { type AgeKey, ageEnv, ageKey, backupConfig, client, contents, uniquePrefix } from "../support/backup";
import { freshDatabase } from "../support/postgres";
import { startS3, type TestS3 } from "../support/s3";
import { apiClient, startTestServer, type TestServer } from "../support/server";

let s3: TestS3;
let source: TestServer;
let sourceUrl: string;
let keyA: AgeKey;
let keyB: AgeKey;

// Text that COPY's text format must escape, and a line that looks like its end marker.
const AWKWARD_TEXTS = ["tab\there", "new\nline", "back\\slash", "\\.", "quotes \"' <b>&amp;", "émoji 🐦 ünïcode", ""];

beforeAll(async () => {
  keyA = await ageKey();
  keyB = await ageKey();
  s3 = await startS3();
  source = await startTestServer("postgres");
  sourceUrl = source.config.databaseUrl as string;
  const api = apiClient(source.api);
  for (const name of ["alice", "bob smith", "çarol", "dave"]) {
    expect((await api.post("/register?latest=1", { username: name, email: `${name}@x.org`, pwd: "pw" })).status).toBe(
      204,
    );
  }
  for (const [i, text] of AWKWARD_TEXTS.entries()) {
    const author = encodeURIComponent(i % 2 === 0 ? "alice" : "bob smith");
    expect((await api.post(`/msgs/${author}?latest=${i + 2}`, { content: text })).status).toBe(204);
  }
  await api.post(`/fllws/alice`, { follow: "bob smith" });
  await api.post(`/fllws/alice`, { follow: "çarol" });
  await api.post(`/fllws/dave?latest=4242`, { follow: "alice" });
  const sql = client(sourceUrl);
  // A flagged message, and a deleted user, so ids have a gap and the highest id is not the row count.
  await sql`update messages set flagged = true where message_id = 2`;
  await sql`delete from users where username = 'çarol'`;
  await sql.end();
}, 60_000);

afterAll(async () => {
  await source.stop();
  await s3.stop();
});

describe("backup then restore into an empty database", () => {
  test.each([
    ["unencrypted", false],
    ["encrypted with age", true],
  ])(
    "%s: every table comes back identical and new rows get fresh ids",
    async (_, encrypted) => {
      const extra = encrypted ? ageEnv(keyA) : {};
      const prefix = uniquePrefix("roundtrip");
      const backup = await runBackup(backupConfig(s3, prefix, sourceUrl, extra));
      expect(backup.key).toEndWith(encrypted ? ".sql.gz.age" : ".sql.gz");
      // The stored object says what it is, so any S3 client downloads it as such.
      expect((await s3.client.file(backup.key).stat()).type).toBe(
        encrypted ? "application/octet-stream" : "application/gzip",
      );
      expect(backup.manifest.encryption).toBe(encrypted ? "age" : null);
      const before = await contents(sourceUrl);
      expect(Object.keys(backup.manifest.tables).sort()).toEqual(Object.keys(before).sort());
      for (const [table, rows] of Object.entries(before)) expect(backup.manifest.tables[table]).toBe(rows.length);

      const target = await freshDatabase();
      await runRestore(backupConfig(s3, prefix, target, extra), { which: { latest: true }, force: false });
      expect(await contents(target)).toEqual(before);

      // The application on the restored database: inserts continue after the highest restored ids.
      const app = await startTestServer("postgres", { DATABASE_URL: target });
      try {
        const api = apiClient(app.api);
        expect((await api.post("/register", { username: "newcomer", email: "n@x.org", pwd: "pw" })).status).toBe(204);
        expect((await api.post("/msgs/newcomer", { content: "first after restore" })).status).toBe(204);
        expect((await api.post("/fllws/newcomer", { follow: "alice" })).status).toBe(204);
        expect((await api.get("/latest")).json).toEqual({ latest: 4242 });
      } finally {
        await app.stop();
      }
      const sql = client(target);
      const [ids] = await sql`select
      (select user_id from users where username = 'newcomer') as user_id,
      (select max(user_id) from users where username <> 'newcomer') as max_user,
      (select message_id from messages where text = 'first after restore') as message_id,
      (select max(message_id) from messages where text <> 'first after restore') as max_message`;
      await sql.end();
      expect(ids?.user_id).toBe((ids?.max_user as number) + 1);
      expect(ids?.message_id).toBe((ids?.max_message as number) + 1);
    },
    60_000,
  );
});

describe("a backup that cannot be trusted is refused and the target is left as it was", () => {
  async function payload(key: string): Promise<Uint8Array> {
    return new Uint8Array(await s3.client.file(key).arrayBuffer());
  }
  async function rewriteManifest(key: string, bytes: Uint8Array, changes: Record<string, unknown> = {}) {
    const manifestKey = key.replace(/\.sql\.gz(\.age)?$/, ".manifest.json");
    const manifest = await s3.client.file(manifestKey).json();
    const sha256 = new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
    await s3.client.write(manifestKey, JSON.stringify({ ...manifest, sha256, size: bytes.length, ...changes }));
  }
  function flipped(bytes: Uint8Array, at: number): Uint8Array {
    const copy = bytes.slice();
    copy[at] = (copy[at] as number) ^ 0x01;
    return copy;
  }

  test.each([
    ["a wrong identity", "A", "B", null, /wrong age identity/],
    ["no identity for an encrypted backup", "A", null, null, /encrypted with age: set BACKUP_AGE_IDENTITY_FILE/],
    ["a flipped byte, manifest unchanged", "A", "A", "payload", /checksum mismatch/],
    ["a flipped byte with a recomputed manifest hash", "A", "A", "payload+manifest", /failed authentication/],
    [
      "an unencrypted backup changed with a recomputed manifest hash",
      null,
      null,
      "payload+manifest",
      /damaged|corrupt|truncated/,
    ],
    ["a schema version this minitwit does not know", null, null, "schema", /9999_future.*does not know/],
  ])(
    "%s",
    async (_, backupKey, restoreKey, tamper, error) => {
      const prefix = uniquePrefix("refused");
      const keys: Record<string, AgeKey> = { A: keyA, B: keyB };
      const { key } = await runBackup(
        backupConfig(
          s3,
          prefix,
          sourceUrl,
          backupKey === null ? {} : { BACKUP_AGE_RECIPIENTS: (keys[backupKey] as AgeKey).recipient },
        ),
      );
      const restoreEnv: Record<string, string> =
        restoreKey === null ? {} : { BACKUP_AGE_IDENTITY_FILE: (keys[restoreKey] as AgeKey).identityFile };
      const original = await payload(key);
      // Past the age header: inside the encrypted (or compressed) data.
      const changed = flipped(original, Math.floor(original.length / 2) + 30);
      if (tamper === "payload" || tamper === "payload+manifest") await s3.client.write(key, changed);
      if (tamper === "payload+manifest") await rewriteManifest(key, changed);
      if (tamper === "schema") await rewriteManifest(key, original, { schemaVersion: "9999_future" });

      const target = await freshDatabase();
      const restore = runRestore(backupConfig(s3, prefix, target, restoreEnv), {
        which: { key },
        force: false,
      });
      await expect(restore).rejects.toThrow(error);
      // Refused before migrating, or rolled back after: no table holds a row (migrating an empty database is fine).
      const { schema_migrations: _history, ...tables } = await contents(target);
      for (const rows of Object.values(tables)) expect(rows).toEqual([]);
    },
    60_000,
  );
});

describe("a target that already holds data", () => {
  test("is refused without --force, and replaced with it", async () => {
    const prefix = uniquePrefix("force");
    await runBackup(backupConfig(s3, prefix, sourceUrl));
    const target = await startTestServer("postgres");
    const targetUrl = target.config.databaseUrl as string;
    try {
      const api = apiClient(target.api);
      await api.post("/register", { username: "squatter", email: "s@x.org", pwd: "pw" });
      await api.post("/msgs/squatter", { content: "already here" });
      const occupied = await contents(targetUrl);
      const config = backupConfig(s3, prefix, targetUrl);

      await expect(runRestore(config, { which: { latest: true }, force: false })).rejects.toThrow(
        /already holds data.*--force/,
      );
      expect(await contents(targetUrl)).toEqual(occupied);

      await runRestore(config, { which: { latest: true }, force: true });
      expect(await contents(targetUrl)).toEqual(await contents(sourceUrl));
      // Restoring the same backup again with --force is a no-op in effect: safe to re-run.
      await runRestore(config, { which: { latest: true }, force: true });
      expect(await contents(targetUrl)).toEqual(await contents(sourceUrl));
    } finally {
      await target.stop();
    }
  }, 60_000);
});

test("backup and restore refuse the embedded database with a clear message", async () => {
  const prefix = uniquePrefix("embedded");
  await expect(runBackup(backupConfig(s3, prefix, null))).rejects.toThrow(/needs PostgreSQL: set DATABASE_URL/);
  await expect(runRestore(backupConfig(s3, prefix, null), { which: { latest: true }, force: false })).rejects.toThrow(
    /needs PostgreSQL/,
  );
});

test("backup and restore of 200,000 messages stream: peak RSS under 300 MB with a payload over 300 MB", async () => {
  // bench/backup-memory.ts prints these figures; docs/operations.md records them.
  const MB = 1024 * 1024;
  const result = await measureBackupMemory({ messages: 200_000, textBytes: 2200, encrypted: true });
  expect(result.backup.stdout).toContain("encrypted with age");
  // The premise: what is stored would not fit under the bound by itself.
  expect(result.payloadBytes).toBeGreaterThan(300 * MB);
  expect(result.dumpBytes).toBeGreaterThan(result.payloadBytes);
  expect(result.restore.stdout).toContain("messages 200000");
  for (const run of [result.backup, result.restore]) {
    expect(run.peakRssBytes).toBeGreaterThan(0);
    expect(run.peakRssBytes).toBeLessThan(300 * MB);
  }
}, 600_000);
