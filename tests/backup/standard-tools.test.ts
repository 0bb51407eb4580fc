// A backup is restorable with standard tools alone: taken while the API is
// being written to, downloaded from S3, decrypted with Debian's `age` and
// loaded with `gunzip -c … | psql -v ON_ERROR_STOP=1` into a fresh
// database, it holds exactly what `minitwit restore` (from S3 and with
// --file) restores, every row of every table, and the application can add
// users and messages to it. The runbook's own createdb and psql commands
// load it as MiniTwit's role, which then owns every table, and load nothing
// of a script cut short. `minitwit restore` refuses a modified file.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { runBackup } from "../../src/backup/create";
import { runRestore } from "../../src/backup/restore";
import {
  type AgeKey,
  ageEnv,
  ageKey,
  backupConfig,
  client,
  contents,
  orphans,
  rowCounts,
  seedBackupData,
  uniquePrefix,
} from "../support/backup";
import { runMinitwit } from "../support/cli";
import { freshDatabase, PG_PASSWORD, sharedCluster } from "../support/postgres";
import { startS3, type TestS3 } from "../support/s3";
import { apiClient, startTestServer, type TestServer } from "../support/server";

let s3: TestS3;
let app: TestServer;
let url: string;
let key: AgeKey;
const dir = mkdtempSync(join(tmpdir(), "minitwit-standard-tools-"));

beforeAll(async () => {
  key = await ageKey();
  s3 = await startS3();
  app = await startTestServer("postgres");
  url = app.config.databaseUrl as string;
  await seedBackupData(url, 20_000);
}, 120_000);

afterAll(async () => {
  await app.stop();
  await s3.stop();
});

/** `sh -c SCRIPT`; throws with its stderr when it fails. */
function sh(script: string): string {
  const run = Bun.spawnSync(["sh", "-c", script], { stdout: "pipe", stderr: "pipe" });
  if (run.exitCode !== 0) throw new Error(`${script} failed (${run.exitCode}): ${run.stderr.toString()}`);
  return run.stdout.toString();
}

/** A backup to S3 while a writer registers users and posts; returns its key and manifest. */
async function backupUnderWrites(extra: Record<string, string>) {
  const api = apiClient(app.api);
  let stop = false;
  const acknowledged: number[] = [];
  const writer = (async () => {
    for (let i = 0; !stop; i++) {
      const name = `writer_${crypto.randomUUID().slice(0, 8)}`;
      expect((await api.post("/register", { username: name, email: `${name}@x.org`, pwd: "pw" })).status).toBe(204);
      expect((await api.post(`/msgs/${name}`, { content: `post ${i}` })).status).toBe(204);
      acknowledged.push(performance.now());
    }
  })();
  while (acknowledged.length < 5) await Bun.sleep(10);
  const started = performance.now();
  const backup = await runBackup(backupConfig(s3, uniquePrefix("tools"), url, extra));
  const finished = performance.now();
  stop = true;
  await writer;
  expect(acknowledged.some((t) => t > started && t < finished)).toBe(true);
  return backup;
}

describe.each([
  ["plain", false],
  ["age-encrypted", true],
])("a %s backup taken under writes", (_, encrypted) => {
  test("loads with gunzip and psql, and restores with minitwit restore, identically", async () => {
    const { key: objectKey, manifest } = await backupUnderWrites(
      encrypted ? { BACKUP_AGE_RECIPIENTS: key.recipient } : {},
    );
    const file = join(dir, objectKey.slice(objectKey.lastIndexOf("/") + 1));
    writeFileSync(file, new Uint8Array(await s3.client.file(objectKey).arrayBuffer()));
    const gzipped = encrypted ? `${file}.decrypted` : file;
    if (encrypted) sh(`age -d -i '${key.identityFile}' -o '${gzipped}' '${file}'`);

    const byPsql = await freshDatabase();
    sh(`gunzip -c '${gzipped}' | psql -q -v ON_ERROR_STOP=1 '${byPsql}' >/dev/null`);
    const loaded = await contents(byPsql);
    expect(await rowCounts(byPsql, Object.keys(manifest.tables))).toEqual({ ...manifest.tables });
    expect(await orphans(byPsql)).toEqual({ messages_without_author: 0, follows_of_missing_users: 0 });

    const fromS3 = await freshDatabase();
    await runRestore(backupConfig(s3, "unused", fromS3, ageEnv(key)), { which: { key: objectKey }, force: false });
    expect(await contents(fromS3)).toEqual(loaded);
    const fromFile = await freshDatabase();
    const restored = await runMinitwit(["restore", "--file", file], {
      DATABASE_URL: fromFile,
      LOG_LEVEL: "silent",
      ...(encrypted ? { BACKUP_AGE_IDENTITY_FILE: key.identityFile } : {}),
    });
    expect(restored.stderr).toBe("");
    expect(restored.stdout).toContain("no manifest next to the file");
    expect(restored.code).toBe(0);
    expect(await contents(fromFile)).toEqual(loaded);

    // The psql-loaded database takes new rows after the highest ids, and `minitwit migrate` finds nothing to do.
    const sql = client(byPsql);
    const [user] =
      await sql`insert into users (username, email, pw_hash) values ('new', 'n@x.org', 'x') returning user_id`;
    const [message] =
      await sql`insert into messages (author_id, text, pub_date) values (${user?.user_id}, 'hi', 1) returning message_id`;
    const [max] = await sql`select (select max(user_id) from users where username <> 'new') as u,
      (select max(message_id) from messages where text <> 'hi') as m`;
    await sql.end();
    expect(user?.user_id).toBe((max?.u as number) + 1);
    expect(message?.message_id).toBe((max?.m as number) + 1);
    const migrated = await runMinitwit(["migrate"], { DATABASE_URL: byPsql, LOG_LEVEL: "silent" });
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).not.toMatch(/applied 0\d{3}_/);
  }, 120_000);
});

describe("the runbook's manual restore (docs/operations.md, step 4)", () => {
  const runbook = readFileSync(join(import.meta.dir, "..", "..", "docs", "operations.md"), "utf8");
  const section = runbook.slice(runbook.indexOf("### Restoring with standard tools alone"));
  /** The runbook's line that starts with `start`, in step 4's code block. */
  const step = (start: string) => {
    const line = section.split("\n").find((l) => l.startsWith(start));
    if (line === undefined) throw new Error(`the runbook has no line starting with ${start}`);
    return line;
  };
  let role: string;
  let port: number;
  let file: string;
  let tables: Record<string, number>;

  beforeAll(async () => {
    port = (await sharedCluster()).port;
    role = `mt_${crypto.randomUUID().replaceAll("-", "").slice(0, 8)}`;
    const admin = client(await freshDatabase());
    await admin.unsafe(`create role ${role} login password '${PG_PASSWORD}'`);
    await admin.end();
    file = join(mkdtempSync(join(dir, "manual-")), "minitwit.sql.gz");
    const made = await runMinitwit(["backup", "--output", file], { DATABASE_URL: url, LOG_LEVEL: "silent" });
    expect(made.code).toBe(0);
    tables = JSON.parse(readFileSync(file.replace(/\.sql\.gz$/, ".manifest.json"), "utf8")).tables;
  }, 60_000);

  /**
   * The runbook's command for the test cluster: its host is 127.0.0.1:PORT,
   * its role `minitwit` is `role`, its database `database`, its file `gz`.
   */
  function adapt(line: string, database: string, gz: string): string {
    const words = line.split(" ");
    const out: string[] = [];
    for (let i = 0; i < words.length; i++) {
      const word = words[i] as string;
      const next = words[i + 1];
      if (word === "-h") {
        out.push("-h", "127.0.0.1", "-p", String(port));
        i++;
      } else if ((word === "-U" || word === "-O") && next === "minitwit") {
        out.push(word, role);
        i++;
      } else if (word === "minitwit.sql.gz") out.push(`'${gz}'`);
      else if (word === "minitwit" && i === words.length - 1) out.push(database);
      else out.push(word);
    }
    return out.join(" ");
  }
  /** createdb and the gunzip | psql pipeline as the runbook gives them; psql's exit status. */
  function manualRestore(gz: string, extraPsqlFlag = ""): { database: string; psqlExit: number } {
    const database = `manual_${crypto.randomUUID().replaceAll("-", "").slice(0, 8)}`;
    const env = { ...process.env, PGPASSWORD: PG_PASSWORD };
    const created = Bun.spawnSync(["sh", "-c", adapt(step("createdb "), database, gz)], { env, stderr: "pipe" });
    expect({ createdb: created.exitCode, stderr: created.stderr.toString() }).toEqual({ createdb: 0, stderr: "" });
    const load = adapt(step("gunzip -c minitwit.sql.gz | psql "), database, gz).replace(
      " psql ",
      ` psql -q ${extraPsqlFlag} `,
    );
    const loaded = Bun.spawnSync(["sh", "-c", `${load} >/dev/null`], { env, stderr: "pipe" });
    return { database, psqlExit: loaded.exitCode };
  }
  const databaseUrl = (database: string, user: string) =>
    `postgres://${user}:${PG_PASSWORD}@127.0.0.1:${port}/${database}`;

  test("loads every row as MiniTwit's role, which owns every table, and migrate finds nothing to do", async () => {
    const { database, psqlExit } = manualRestore(file);
    expect(psqlExit).toBe(0);
    const asRole = databaseUrl(database, role);
    expect(await rowCounts(asRole, Object.keys(tables))).toEqual(tables);
    const sql = client(asRole);
    const owners = await sql`select distinct tableowner from pg_tables where schemaname = 'public'`;
    await sql.end();
    expect(owners.map((o) => o.tableowner)).toEqual([role]);
    const migrated = await runMinitwit(["migrate"], { DATABASE_URL: asRole, LOG_LEVEL: "silent" });
    expect(migrated).toMatchObject({ code: 0, stderr: "" });
    expect(migrated.stdout).toStartWith("schema is current");
  }, 60_000);

  test("a script cut at 60 % at a line boundary loads nothing (with --single-transaction it would commit part)", async () => {
    const script = gunzipSync(readFileSync(file)).toString();
    const cut = script.slice(0, script.lastIndexOf("\n", Math.floor(script.length * 0.6)) + 1);
    const cutFile = join(mkdtempSync(join(dir, "cut-")), "minitwit.sql.gz");
    writeFileSync(cutFile, gzipSync(cut));
    // The cut falls inside the messages: the tables before them are whole in what arrived.
    expect(cut).toContain('COPY "messages"');
    expect(cut).not.toContain("COMMIT;");

    const { database, psqlExit } = manualRestore(cutFile);
    // psql reached the end of its input without an error: its exit status does not tell.
    expect(psqlExit).toBe(0);
    const sql = client(databaseUrl(database, "postgres"));
    const [loaded] = await sql`select count(*)::int as n from pg_tables where schemaname = 'public'`;
    await sql.end();
    expect(loaded?.n).toBe(0);

    // The flag the runbook no longer gives: psql's own COMMIT keeps what arrived.
    const withFlag = manualRestore(cutFile, "--single-transaction");
    expect(withFlag.psqlExit).toBe(0);
    const partial = await rowCounts(databaseUrl(withFlag.database, "postgres"), ["users", "messages"]);
    expect(partial.users).toBe(tables.users);
    expect(partial.messages).toBeGreaterThan(0);
    expect(partial.messages).toBeLessThan(tables.messages as number);
  }, 60_000);
});

describe("minitwit restore --file refuses a modified backup and leaves the target empty", () => {
  test.each([
    ["age-encrypted, no manifest", true, false, /failed authentication/],
    ["plain, no manifest", false, false, /damaged|corrupt|truncated/],
    ["plain, with its manifest", false, true, /checksum mismatch/],
  ])(
    "%s",
    async (_, encrypted, withManifest, error) => {
      const file = join(mkdtempSync(join(dir, "tampered-")), encrypted ? "b.sql.gz.age" : "b.sql.gz");
      const env = { DATABASE_URL: url, LOG_LEVEL: "silent", ...(encrypted ? ageEnv(key) : {}) };
      const made = await runMinitwit(["backup", "--output", file], env);
      expect(made.code).toBe(0);
      const bytes = readFileSync(file);
      const at = Math.floor(bytes.length / 2);
      bytes[at] = (bytes[at] as number) ^ 0x01;
      writeFileSync(file, bytes);
      if (!withManifest) sh(`rm '${file.replace(/\.sql\.gz(\.age)?$/, ".manifest.json")}'`);

      const target = await freshDatabase();
      const restored = await runMinitwit(["restore", "--file", file], { ...env, DATABASE_URL: target });
      expect(restored.stderr).toMatch(error);
      expect(restored.stderr).toContain("nothing was restored");
      expect(restored.code).toBe(1);
      expect(Object.keys(await contents(target))).toEqual([]);
    },
    60_000,
  );
});

test("backup --output - writes the gzipped script to stdout and its report to stderr", async () => {
  const proc = Bun.spawn(
    ["sh", "-c", `bun '${join(import.meta.dir, "..", "..", "src", "main.ts")}' backup --output - | gunzip -c`],
    {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", DATABASE_URL: url, LOG_LEVEL: "silent" },
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const [script, report] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  expect(await proc.exited).toBe(0);
  expect(script).toStartWith("-- MiniTwit backup: a plain SQL script.");
  expect(script).toContain('COPY "messages" (');
  expect(report).toMatch(/^backed up to stdout\n/);
}, 60_000);
