// A database whose tables belong to another role (a manual restore run as
// the superuser, say): `migrate` and `serve` as MiniTwit's role stop with
// PostgreSQL's own "permission denied …" and SQLSTATE 42501 in their
// one-line error, without --verbose, not with the driver's "Failed query".
import { beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { runMinitwit } from "../support/cli";
import { freshDatabase } from "../support/postgres";

/** The database, migrated by its superuser, and a login role that may connect and nothing more. */
let url: string;
let asApp: string;

beforeAll(async () => {
  url = await freshDatabase();
  expect((await runMinitwit(["migrate"], { DATABASE_URL: url, LOG_LEVEL: "silent" })).code).toBe(0);
  const role = `app_${crypto.randomUUID().replaceAll("-", "").slice(0, 8)}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create role ${role} login password 'app-password'`);
  await admin.end();
  const app = new URL(url);
  app.username = role;
  app.password = "app-password";
  asApp = app.toString();
}, 60_000);

/** The first line of stderr: the error as an operator sees it without --verbose. */
const firstLine = (stderr: string) => stderr.split("\n")[0] ?? "";

describe("a role that cannot use MiniTwit's tables", () => {
  test("migrate names the missing privilege in its one-line error", async () => {
    const run = await runMinitwit(["migrate"], { DATABASE_URL: asApp, LOG_LEVEL: "silent" });
    expect(run.code).toBe(1);
    const line = firstLine(run.stderr);
    expect(line).toMatch(
      /^minitwit: permission denied for (schema public \(in: create table if not exists schema_migrations\)|table schema_migrations) /,
    );
    expect(line).toContain("SQLSTATE 42501");
    expect(line).toContain("connect as the role that owns MiniTwit's tables");
    expect(run.stderr).not.toContain("Failed query");
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
  });

  test("with CREATE on the schema, the first table it reads is named", async () => {
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    const role = new URL(asApp).username;
    await admin.unsafe(`grant create on schema public to ${role}`);
    await admin.end();
    const run = await runMinitwit(["migrate"], { DATABASE_URL: asApp, LOG_LEVEL: "silent" });
    expect(run.code).toBe(1);
    expect(firstLine(run.stderr)).toMatch(
      /^minitwit: permission denied for table schema_migrations \(in: select tag, sha256 from schema_migrations\) \[SQLSTATE 42501\]/,
    );
    expect(run.stderr).not.toContain("Failed query");
  });

  test("serve stops at its start with the same line", async () => {
    const run = await runMinitwit(["serve"], {
      DATABASE_URL: asApp,
      LOG_LEVEL: "silent",
      PORT: "0",
      API_PORT: "0",
      METRICS_PORT: "0",
    });
    expect(run.code).toBe(1);
    expect(firstLine(run.stderr)).toMatch(/^minitwit: permission denied for table schema_migrations .*SQLSTATE 42501/);
    expect(run.stderr).not.toContain("Failed query");
  });

  test("--verbose still shows the causes behind it", async () => {
    const run = await runMinitwit(["migrate", "--verbose"], { DATABASE_URL: asApp, LOG_LEVEL: "silent" });
    expect(run.stderr).toContain("  caused by: permission denied for table schema_migrations");
  });
});
