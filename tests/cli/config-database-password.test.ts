// DATABASE_PASSWORD_FILE: a Swarm secret holds the database password, and
// DATABASE_URL names only the user, host and database. The password is put
// into the URL percent-encoded, so any character survives, and a real
// PostgreSQL accepts the result.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { loadConfig } from "../../src/config/settings";
import { ConfigError } from "../../src/errors";
import { sharedCluster } from "../support/postgres";

const dir = mkdtempSync(join(tmpdir(), "minitwit-dbpass-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PASSWORD = "p@ss:w/rd %41#?&=é";
const secretFile = (text: string) => {
  const path = join(dir, `secret-${crypto.randomUUID()}`);
  writeFileSync(path, text);
  return path;
};

describe("DATABASE_URL_FILE", () => {
  test("reads the address from a file, as a Swarm config gives it, with the password from its own secret", () => {
    const config = loadConfig({
      DATABASE_URL_FILE: secretFile("postgres://minitwit@postgres:5432,postgres-new:5432/minitwit\n"),
      DATABASE_PASSWORD_FILE: secretFile(`${PASSWORD}\n`),
    });
    const encoded = encodeURIComponent(PASSWORD);
    expect(config.databaseUrl).toBe(`postgres://minitwit:${encoded}@postgres:5432,postgres-new:5432/minitwit`);
  });

  test.each([
    [{ DATABASE_URL: "postgres://a@db/x", DATABASE_URL_FILE: "/f" }, "DATABASE_URL and DATABASE_URL_FILE are both set"],
    [{ DATABASE_URL_FILE: "/no/such/file" }, "DATABASE_URL_FILE: cannot read /no/such/file"],
  ])("refuses %j", (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  test("a file that holds no PostgreSQL URL is named in the message, its password hidden", () => {
    const env = { DATABASE_URL_FILE: secretFile("mysql://root:hunter2@db/x") };
    expect(() => loadConfig(env)).toThrow('DATABASE_URL_FILE must be a postgres:// URL, got "mysql://root:***@db/x"');
  });
});

describe("DATABASE_PASSWORD_FILE", () => {
  test("puts the file's password into DATABASE_URL, percent-encoded", () => {
    const config = loadConfig({
      DATABASE_URL: "postgres://minitwit@postgres:5432/minitwit",
      DATABASE_PASSWORD_FILE: secretFile(`${PASSWORD}\n`),
    });
    const url = new URL(config.databaseUrl ?? "");
    expect(url.username).toBe("minitwit");
    expect(decodeURIComponent(url.password)).toBe(PASSWORD);
    expect(url.host).toBe("postgres:5432");
    expect(url.pathname).toBe("/minitwit");
  });

  test("also applies to --database-url", () => {
    const config = loadConfig(
      { DATABASE_PASSWORD: "secret" },
      { "database-url": "postgres://app@db/minitwit?sslmode=disable" },
    );
    expect(config.databaseUrl).toBe("postgres://app:secret@db/minitwit?sslmode=disable");
  });

  test("without it DATABASE_URL is used as given", () => {
    expect(loadConfig({ DATABASE_URL: "postgres://a:b@db/x" }).databaseUrl).toBe("postgres://a:b@db/x");
  });

  test.each([
    [{ DATABASE_PASSWORD: "x" }, "DATABASE_PASSWORD is set but DATABASE_URL is not"],
    [{ DATABASE_URL: "postgres://a:b@db/x", DATABASE_PASSWORD: "x" }, "DATABASE_URL has a password"],
    [{ DATABASE_URL: "postgres://db/x", DATABASE_PASSWORD: "x" }, "DATABASE_URL must name a user"],
    [{ DATABASE_URL: "postgres://a@db/x", DATABASE_PASSWORD: "x", DATABASE_PASSWORD_FILE: "/f" }, "set only one"],
  ])("refuses %j", (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  test("a real PostgreSQL accepts the password from the file, and refuses a wrong one", async () => {
    const cluster = await sharedCluster();
    const role = `pw_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
    const admin = postgres(cluster.url("postgres"), { max: 1, onnotice: () => {} });
    await admin.unsafe(`create role ${role} login password '${PASSWORD.replaceAll("'", "''")}'`);
    await admin.end();

    const connect = async (password: string) => {
      const config = loadConfig({
        DATABASE_URL: `postgres://${role}@127.0.0.1:${cluster.port}/postgres`,
        DATABASE_PASSWORD_FILE: secretFile(password),
      });
      const sql = postgres(config.databaseUrl ?? "", { max: 1, connect_timeout: 5, onnotice: () => {} });
      try {
        const [row] = await sql`select current_user as user`;
        return row?.user as string;
      } finally {
        await sql.end();
      }
    };
    expect(await connect(PASSWORD)).toBe(role);
    await expect(connect("wrong")).rejects.toThrow(/password authentication failed/);
  });
});
