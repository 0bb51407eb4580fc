// Backups written before the SQL script and age (MINITWIT-BACKUP 1
// containers, MTWENC1 encryption) still restore, from S3 and from a file,
// with every check they had: fixtures made by the old writer
// (tests/fixtures/legacy-backup/README.md) come back row for row, and a
// modified one is refused.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runRestore } from "../../src/backup/restore";
import { backupConfig, contents, uniquePrefix } from "../support/backup";
import { freshDatabase } from "../support/postgres";
import { startS3, type TestS3 } from "../support/s3";

const FIXTURES = join(import.meta.dir, "..", "fixtures", "legacy-backup");
const STAMP = "20250102T030405.678Z";
const V1_KEY = { BACKUP_ENCRYPTION_KEY: "c3".repeat(32) };
const expected = JSON.parse(readFileSync(join(FIXTURES, "contents.json"), "utf8")) as Record<string, string[]>;

let s3: TestS3;
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => {
  await s3.stop();
});

const fixture = (kind: string, suffix: string) => join(FIXTURES, `legacy-${kind}-${STAMP}${suffix}`);

/** The fixture's payload and manifest under a fresh prefix, as the old release stored them. */
async function upload(kind: string, payload = readFileSync(fixture(kind, ".minitwit.gz"))): Promise<string> {
  const prefix = uniquePrefix(`legacy-${kind}`);
  const manifest = JSON.parse(readFileSync(fixture(kind, ".manifest.json"), "utf8"));
  const sha256 = new Bun.CryptoHasher("sha256").update(payload).digest("hex");
  await s3.client.write(`${prefix}/legacy-${STAMP}.minitwit.gz`, payload);
  await s3.client.write(
    `${prefix}/legacy-${STAMP}.manifest.json`,
    JSON.stringify({ ...manifest, sha256, size: payload.length }),
  );
  return prefix;
}

test.each(["plain", "encrypted"])(
  "a legacy %s backup restores from S3 row for row",
  async (kind) => {
    const prefix = await upload(kind);
    const target = await freshDatabase();
    await runRestore(backupConfig(s3, prefix, target, V1_KEY), { which: { latest: true }, force: false });
    expect(await contents(target)).toEqual(expected);
  },
  60_000,
);

test.each(["plain", "encrypted"])(
  "a legacy %s backup file restores with its manifest next to it",
  async (kind) => {
    const dir = mkdtempSync(join(tmpdir(), "minitwit-legacy-"));
    const file = join(dir, `legacy-${STAMP}.minitwit.gz`);
    copyFileSync(fixture(kind, ".minitwit.gz"), file);
    const target = await freshDatabase();
    const config = backupConfig(s3, "unused", target, V1_KEY);
    await expect(runRestore(config, { which: { file }, force: false })).rejects.toThrow(
      /old-format backup: restore it with its manifest/,
    );
    copyFileSync(fixture(kind, ".manifest.json"), join(dir, `legacy-${STAMP}.manifest.json`));
    await runRestore(config, { which: { file }, force: false });
    expect(await contents(target)).toEqual(expected);
  },
  60_000,
);

test("a modified legacy encrypted backup is refused, even with a manifest that matches it", async () => {
  const payload = readFileSync(fixture("encrypted", ".minitwit.gz"));
  payload[payload.length - 30] = (payload[payload.length - 30] as number) ^ 1;
  const prefix = await upload("encrypted", payload);
  const target = await freshDatabase();
  const restore = runRestore(backupConfig(s3, prefix, target, V1_KEY), { which: { latest: true }, force: false });
  await expect(restore).rejects.toThrow(/failed authentication/);
  const { schema_migrations: _history, ...tables } = await contents(target);
  for (const rows of Object.values(tables)) expect(rows).toEqual([]);
}, 60_000);
