// No error or log line ever holds secret material. Every secret setting
// (every one src/config reads through `secret(…)`, so also as NAME_FILE, and
// the URLs that carry a password) is given a secret-looking wrong value, to
// the real CLI (`bun src/main.ts`) with --verbose and LOG_LEVEL=trace so that
// every cause and debug line is printed, and the value appears nowhere in
// its standard output or error. Each case also checks that the command did
// refuse the value, so the test cannot pass by never reading it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateX25519Identity, identityToRecipient } from "age-encryption";
import postgres from "postgres";
import { ageKey } from "../support/backup";
import { runMinitwit } from "../support/cli";
import { freePort, freshDatabase, PG_PASSWORD } from "../support/postgres";
import { startS3, type TestS3 } from "../support/s3";
import { spawnServe } from "../support/serve-process";
import { apiClient } from "../support/server";
import { webClient } from "../support/web-client";

const dir = mkdtempSync(join(tmpdir(), "minitwit-secret-settings-"));
const file = (name: string, text: string) => {
  const path = join(dir, `${name}-${crypto.randomUUID().slice(0, 8)}`);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
};

/** A secret-looking value: distinctive, so any echo of it (or of its core) is found. */
const secretValue = (tag: string) => `${tag}Zq${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;

let s3: TestS3;
let databaseUrl: string;
/** A port nothing listens on. */
let closedPort: number;
/** An age-encrypted backup (to a key the tests below do not hold) and an old-format encrypted one. */
let ageBackup: string;
const V1_BACKUP = join(
  import.meta.dir,
  "..",
  "fixtures",
  "legacy-backup",
  "legacy-encrypted-20250102T030405.678Z.minitwit.gz",
);

beforeAll(async () => {
  s3 = await startS3();
  databaseUrl = await freshDatabase();
  closedPort = await freePort();
  const key = await ageKey();
  expect((await runMinitwit(["migrate"], { DATABASE_URL: databaseUrl, LOG_LEVEL: "silent" })).code).toBe(0);
  ageBackup = join(dir, "other-key.sql.gz.age");
  const made = await runMinitwit(["backup", "--output", ageBackup], {
    DATABASE_URL: databaseUrl,
    BACKUP_AGE_RECIPIENTS: key.recipient,
    LOG_LEVEL: "silent",
  });
  expect(made).toMatchObject({ code: 0, stderr: "" });
}, 120_000);
afterAll(() => s3.stop());

interface Case {
  /** The setting the secret is given to. */
  readonly setting: string;
  readonly args: string[];
  readonly env: () => Promise<Record<string, string>> | Record<string, string>;
  /** The secret material: none of it may appear in the output. */
  readonly secrets: string[];
  /** What the command must say instead, proving it read and refused the value. */
  readonly refusal: RegExp;
}

/** The user and database of the test cluster's URL, with `password` in place of the real one. */
const urlWithPassword = (password: string, port?: number) => {
  const url = new URL(databaseUrl);
  url.password = password;
  if (port !== undefined) url.port = String(port);
  return url.toString();
};
const withoutPassword = () => urlWithPassword("");

/** Both NAME and NAME_FILE: refused before either is used. */
function bothSet(setting: string, args: string[], extra: () => Record<string, string> = () => ({})): Case {
  const value = secretValue("both");
  return {
    setting,
    args,
    env: () => ({ ...extra(), [setting]: value, [`${setting}_FILE`]: file("both", value) }),
    secrets: [value],
    refusal: new RegExp(`${setting} and ${setting}_FILE are both set`),
  };
}

function cases(): Case[] {
  const password = secretValue("pw");
  const s3Secret = secretValue("s3");
  const s3KeyId = secretValue("KEYID");
  const token = secretValue("tok");
  const session = secretValue("sess");
  // Well-formed (64 hex characters) but not the key the old backup was made with.
  const encryptionKey = `${crypto.randomUUID()}${crypto.randomUUID()}`.replaceAll("-", "");
  const atPassword = [secretValue("atA"), secretValue("atB")];
  const s3Env = () => ({ ...s3.env("secret-settings"), DATABASE_URL: databaseUrl });
  // The secret keys go to a store that is away (the test store does not check signatures), the key ids to one that refuses them.
  const s3Wrong = (name: string, value: string) => (): Record<string, string> => ({
    ...s3Env(),
    ...(name.endsWith("SECRET_ACCESS_KEY") ? { S3_ENDPOINT: `http://127.0.0.1:${closedPort}` } : {}),
    ...(name.startsWith("AWS_") ? { [name.replace("AWS_", "S3_")]: "" } : {}),
    [name]: value,
  });
  return [
    // DATABASE_PASSWORD: wrong for the server, then given without a URL, then both ways at once.
    {
      setting: "DATABASE_PASSWORD",
      args: ["migrate"],
      env: () => ({ DATABASE_URL: withoutPassword(), DATABASE_PASSWORD: password }),
      secrets: [password],
      refusal: /password authentication failed/,
    },
    {
      setting: "DATABASE_PASSWORD",
      args: ["migrate"],
      env: () => ({ DATABASE_URL: withoutPassword(), DATABASE_PASSWORD_FILE: file("dbpw", `${password}\n`) }),
      secrets: [password],
      refusal: /password authentication failed/,
    },
    {
      setting: "DATABASE_PASSWORD",
      args: ["migrate"],
      env: () => ({ DATABASE_PASSWORD: password }),
      secrets: [password],
      refusal: /DATABASE_PASSWORD is set but DATABASE_URL is not/,
    },
    {
      setting: "DATABASE_PASSWORD",
      args: ["migrate"],
      env: () => ({ DATABASE_URL: urlWithPassword(PG_PASSWORD), DATABASE_PASSWORD: password }),
      secrets: [password, PG_PASSWORD],
      refusal: /has a password and DATABASE_PASSWORD is set/,
    },
    bothSet("DATABASE_PASSWORD", ["migrate"], () => ({ DATABASE_URL: withoutPassword() })),
    // DATABASE_URL holding a password: wrong password, unreachable, malformed, another scheme, an unencoded "@".
    {
      setting: "DATABASE_URL",
      args: ["migrate"],
      env: () => ({ DATABASE_URL: urlWithPassword(password) }),
      secrets: [password],
      refusal: /password authentication failed/,
    },
    {
      setting: "DATABASE_URL",
      args: ["migrate"],
      env: () => ({ DATABASE_URL_FILE: file("dburl", `${urlWithPassword(password)}\n`) }),
      secrets: [password],
      refusal: /password authentication failed/,
    },
    {
      setting: "DATABASE_URL",
      args: ["migrate"],
      env: () => ({ DATABASE_URL: urlWithPassword(password, closedPort) }),
      secrets: [password],
      refusal: /ECONNREFUSED|cannot reach|connect/i,
    },
    {
      setting: "DATABASE_URL",
      args: ["migrate"],
      env: () => ({ DATABASE_URL: `postgres://minitwit:${password}@db.invalid:99999/minitwit` }),
      secrets: [password],
      refusal: /DATABASE_URL must be a postgres:\/\/ URL/,
    },
    {
      setting: "DATABASE_URL",
      args: ["migrate"],
      env: () => ({ DATABASE_URL: `mysql://minitwit:${password}@db.invalid/minitwit` }),
      secrets: [password],
      refusal: /DATABASE_URL must be a postgres:\/\/ URL/,
    },
    {
      setting: "DATABASE_URL",
      args: ["migrate"],
      env: () => ({ DATABASE_URL: `postgres://minitwit:${atPassword.join("@")}@127.0.0.1:${closedPort}/minitwit` }),
      secrets: atPassword,
      refusal: /ECONNREFUSED|cannot reach|connect/i,
    },
    {
      setting: "DATABASE_URL",
      args: ["migrate"],
      env: () => ({ DATABASE_URL: `postgres://minitwit:${atPassword.join("@")}@db.invalid:99999/minitwit` }),
      secrets: atPassword,
      refusal: /DATABASE_URL must be a postgres:\/\/ URL/,
    },
    {
      setting: "DATABASE_URL",
      args: ["migrate"],
      env: () => ({ DATABASE_URL: `postgres:minitwit:${password}@db.invalid/minitwit` }),
      secrets: [password],
      refusal: /DATABASE_URL must be a postgres:\/\/ URL/,
    },
    {
      setting: "DATABASE_URL",
      args: ["migrate"],
      env: () => ({
        DATABASE_URL: `postgres://minitwit@db.invalid:99999/minitwit?sslmode=disable&password=${password}`,
      }),
      secrets: [password],
      refusal: /DATABASE_URL must be a postgres:\/\/ URL/,
    },
    // The URLs given as flags hold passwords as well.
    {
      setting: "DATABASE_URL",
      args: ["import", "--from", `postgres://legacy:${atPassword.join("@")}@127.0.0.1:${closedPort}/minitwit`],
      env: () => ({ DATABASE_URL: databaseUrl }),
      secrets: atPassword,
      refusal: /ECONNREFUSED|cannot connect|cannot reach/i,
    },
    {
      setting: "DATABASE_URL",
      args: ["replicate", "status", "--from", `postgres://mover:${password}@db.invalid:99999/x`, "--to", databaseUrl],
      env: () => ({}),
      secrets: [password],
      refusal: /--from must be a postgres:\/\/ URL/,
    },
    // The server's secrets: serve stops at its database, which is away.
    ...(["SIMULATOR_TOKEN", "SESSION_SECRET"] as const).flatMap((setting): Case[] => {
      const value = setting === "SIMULATOR_TOKEN" ? token : session;
      const away = {
        DATABASE_URL: urlWithPassword(PG_PASSWORD, closedPort),
        PORT: "0",
        API_PORT: "0",
        METRICS_PORT: "0",
      };
      return [
        {
          setting,
          args: ["serve"],
          env: () => ({ ...away, [setting]: value }),
          secrets: [value],
          refusal: /ECONNREFUSED|connect/i,
        },
        {
          setting,
          args: ["serve"],
          env: () => ({ ...away, [`${setting}_FILE`]: file(setting, value) }),
          secrets: [value],
          refusal: /ECONNREFUSED|connect/i,
        },
        bothSet(setting, ["serve"], () => away),
      ];
    }),
    // The S3 credentials: refused by the store.
    ...(["S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", "S3_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"] as const).flatMap(
      (setting): Case[] => {
        const value = setting.endsWith("SECRET_ACCESS_KEY") ? s3Secret : s3KeyId;
        return [
          {
            setting,
            args: ["backups"],
            env: s3Wrong(setting, value),
            secrets: [value],
            refusal: /S3 list .* failed/,
          },
          {
            setting,
            args: ["backup"],
            env: () => {
              const env = s3Wrong(setting, value)();
              delete env[setting];
              return { ...env, [`${setting}_FILE`]: file(setting, value) };
            },
            secrets: [value],
            refusal: /S3 upload .* failed/,
          },
          bothSet(setting, ["backups"], s3Wrong(setting, "")),
        ];
      },
    ),
    // BACKUP_ENCRYPTION_KEY: malformed, and a well-formed wrong key for an old backup.
    {
      setting: "BACKUP_ENCRYPTION_KEY",
      args: ["backups"],
      env: () => ({ ...s3Env(), BACKUP_ENCRYPTION_KEY: password }),
      secrets: [password],
      refusal: /BACKUP_ENCRYPTION_KEY must be 32 bytes/,
    },
    {
      setting: "BACKUP_ENCRYPTION_KEY",
      args: ["restore", "--file", V1_BACKUP],
      env: () => ({ DATABASE_URL: databaseUrl, BACKUP_ENCRYPTION_KEY_FILE: file("legacy-key", encryptionKey) }),
      secrets: [encryptionKey],
      refusal: /wrong encryption key/,
    },
    {
      setting: "BACKUP_ENCRYPTION_KEY",
      args: ["backup", "--output", join(dir, "refused.sql.gz")],
      env: () => ({ DATABASE_URL: databaseUrl, BACKUP_ENCRYPTION_KEY: encryptionKey }),
      secrets: [encryptionKey],
      refusal: /BACKUP_ENCRYPTION_KEY now only decrypts/,
    },
    bothSet("BACKUP_ENCRYPTION_KEY", ["backups"], s3Env),
    // REPLICATION_*_URL: unreachable, another scheme, an unencoded "@".
    ...(["REPLICATION_SOURCE_URL", "REPLICATION_TARGET_URL"] as const).flatMap((setting): Case[] => [
      {
        setting,
        args: ["replicate", "status"],
        env: () => ({
          REPLICATION_SOURCE_URL: databaseUrl,
          REPLICATION_TARGET_URL: databaseUrl,
          [setting]: urlWithPassword(password, closedPort),
        }),
        secrets: [password],
        refusal: /ECONNREFUSED|cannot connect/i,
      },
      {
        setting,
        args: ["replicate", "status"],
        env: () => ({
          REPLICATION_SOURCE_URL: databaseUrl,
          REPLICATION_TARGET_URL: databaseUrl,
          [setting]: "",
          [`${setting}_FILE`]: file(setting, `mysql://mover:${password}@db.invalid/minitwit\n`),
        }),
        secrets: [password],
        refusal: new RegExp(`${setting} must be a postgres:// URL`),
      },
      {
        setting,
        args: ["replicate", "status"],
        env: () => ({
          REPLICATION_SOURCE_URL: databaseUrl,
          REPLICATION_TARGET_URL: databaseUrl,
          [setting]: `postgres://mover:${atPassword.join("@")}@127.0.0.1:${closedPort}/minitwit`,
        }),
        secrets: atPassword,
        refusal: /ECONNREFUSED|cannot connect/i,
      },
      bothSet(setting, ["replicate", "status"]),
    ]),
  ];
}

/** The key with its last character changed: the right shape, a wrong checksum. */
const typo = (key: string) =>
  key.slice(0, -1) +
  (key.endsWith("Q") || key.endsWith("q") ? "P" : "Q")[key.startsWith("age1") ? "toLowerCase" : "toUpperCase"]();

/** The age cases need real keys, made once. */
async function ageCases(): Promise<Case[]> {
  const identity = await generateX25519Identity();
  const recipient = await identityToRecipient(identity);
  const body = identity.slice("AGE-SECRET-KEY-1".length);
  const keygenFile = () =>
    file("age-keygen", `# created: 2026-12-07T10:00:00Z\n# public key: age1notshownhere\n${identity}\n`);
  const notARecipient = secretValue("notage");
  const badIdentity = `AGE-SECRET-KEY-1${secretValue("lower").toLowerCase()}`;
  const backupEnv = () => ({ DATABASE_URL: databaseUrl });
  return [
    // The finding: an age-keygen output file (an identity) given as the recipients.
    {
      setting: "BACKUP_AGE_RECIPIENTS",
      args: ["backup", "--output", join(dir, "never.sql.gz")],
      env: () => ({ ...backupEnv(), BACKUP_AGE_RECIPIENTS_FILE: keygenFile() }),
      secrets: [identity, body, body.slice(0, 20), body.slice(-20)],
      refusal: /holds an age identity \(a secret key\), not a recipient; use `age-keygen -y`/,
    },
    {
      setting: "BACKUP_AGE_RECIPIENTS",
      args: ["backup", "--output", join(dir, "never.sql.gz")],
      env: () => ({ ...backupEnv(), BACKUP_AGE_RECIPIENTS: identity }),
      secrets: [identity, body, body.slice(0, 20), body.slice(-20)],
      refusal: /holds an age identity \(a secret key\), not a recipient/,
    },
    {
      setting: "BACKUP_AGE_RECIPIENTS",
      args: ["backup", "--output", join(dir, "never.sql.gz")],
      env: () => ({
        ...backupEnv(),
        BACKUP_AGE_RECIPIENTS: `age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p,${notARecipient}`,
      }),
      secrets: [notARecipient],
      refusal: /BACKUP_AGE_RECIPIENTS must hold one or more age public keys/,
    },
    bothSet("BACKUP_AGE_RECIPIENTS", ["backup", "--output", join(dir, "never.sql.gz")], backupEnv),
    // The identity: malformed, directly or as a file, and well-formed but not the backup's.
    {
      setting: "BACKUP_AGE_IDENTITY",
      args: ["restore", "--file", ageBackup],
      env: () => ({ ...backupEnv(), BACKUP_AGE_IDENTITY_FILE: file("bad-identity", `${badIdentity}\n`) }),
      secrets: [badIdentity, badIdentity.slice(16)],
      refusal: /BACKUP_AGE_IDENTITY_FILE must hold one or more age identities/,
    },
    {
      setting: "BACKUP_AGE_IDENTITY",
      args: ["restore", "--file", ageBackup],
      env: () => ({ ...backupEnv(), BACKUP_AGE_IDENTITY: `${identity}, ${notARecipient}` }),
      secrets: [identity, body, notARecipient],
      refusal: /must hold one or more age identities/,
    },
    {
      setting: "BACKUP_AGE_IDENTITY",
      args: ["restore", "--file", ageBackup],
      env: () => ({ ...backupEnv(), BACKUP_AGE_IDENTITY_FILE: keygenFile() }),
      secrets: [identity, body, body.slice(0, 20), body.slice(-20)],
      refusal: /wrong age identity|no identity matched/i,
    },
    {
      // Well-formed but for one character: the age library's own error would quote it whole.
      setting: "BACKUP_AGE_IDENTITY",
      args: ["restore", "--file", ageBackup],
      env: () => ({ ...backupEnv(), BACKUP_AGE_IDENTITY_FILE: file("typo-identity", `${typo(identity)}\n`) }),
      secrets: [typo(identity), body.slice(0, 20), body.slice(-20, -1)],
      refusal: /BACKUP_AGE_IDENTITY_FILE must hold one or more age identities.*checksum/,
    },
    {
      setting: "BACKUP_AGE_RECIPIENTS",
      args: ["backup", "--output", join(dir, "never.sql.gz")],
      env: () => ({ ...backupEnv(), BACKUP_AGE_RECIPIENTS: typo(recipient) }),
      secrets: [typo(recipient)],
      refusal: /BACKUP_AGE_RECIPIENTS must hold one or more age public keys.*checksum/,
    },
    bothSet("BACKUP_AGE_IDENTITY", ["restore", "--file", ageBackup], backupEnv),
  ];
}

/** Runs `tasks`, at most `limit` at a time. */
async function inParallel(limit: number, tasks: (() => Promise<void>)[]): Promise<void> {
  const queue = [...tasks];
  await Promise.all(
    Array.from({ length: limit }, async () => {
      for (let task = queue.shift(); task !== undefined; task = queue.shift()) await task();
    }),
  );
}

/** The settings src/config reads through `secret(env, "NAME")`. */
function secretSettingsInSource(): string[] {
  const source = readFileSync(join(import.meta.dir, "..", "..", "src", "config", "settings.ts"), "utf8");
  return [...source.matchAll(/secret\(env, "([A-Z0-9_]+)"\)/g)].map((m) => m[1] as string).sort();
}

describe("a secret setting's wrong value never appears in a command's output", () => {
  test("the cases below cover every setting src/config reads as a secret, and DATABASE_URL", async () => {
    const covered = new Set([...cases(), ...(await ageCases())].map((c) => c.setting));
    const expected = [...new Set([...secretSettingsInSource(), "DATABASE_URL"])];
    expect(expected.length).toBeGreaterThanOrEqual(12);
    expect([...covered].sort()).toEqual(expected.sort());
  });

  test("each wrong value is refused, and neither it nor a part of it is printed", async () => {
    const all = [...cases(), ...(await ageCases())];
    const failures: string[] = [];
    await inParallel(
      6,
      all.map((c, i) => async () => {
        const env = { LOG_LEVEL: "trace", ...(await c.env()) };
        const { code, stdout, stderr } = await runMinitwit([...c.args, "--verbose"], env);
        const output = stdout + stderr;
        const label = `#${i} ${c.setting} (${c.args.join(" ")}; ${Object.keys(env).join(", ")})`;
        const leaked = c.secrets.filter((s) => output.includes(s));
        if (leaked.length > 0) failures.push(`${label}: printed ${leaked.join(", ")}:\n${output}`);
        if (code === 0 || !c.refusal.test(output)) {
          failures.push(`${label}: exit ${code}, expected a refusal matching ${c.refusal}:\n${output}`);
        }
      }),
    );
    expect(failures).toEqual([]);
  }, 180_000);
});

test("a running server's log lines, at trace level, hold none of the secrets it was given or sent", async () => {
  const secrets = {
    password: secretValue("dbpw"),
    session: secretValue("session"),
    simulatorPassword: secretValue("sim"),
    wrongToken: secretValue("wrongtoken"),
    userPassword: secretValue("userpw"),
  };
  const token = Buffer.from(`simulator:${secrets.simulatorPassword}`).toString("base64");
  // A role of its own whose password is secret-looking, owning the database.
  const url = new URL(await freshDatabase());
  const role = `srv_${crypto.randomUUID().replaceAll("-", "").slice(0, 8)}`;
  const admin = postgres(url.toString(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`create role ${role} login password '${secrets.password}'`);
  await admin.unsafe(`alter database ${url.pathname.slice(1)} owner to ${role}`);
  await admin.end();
  url.username = role;
  url.password = "";
  const [port, apiPort] = [await freePort(), await freePort()];
  const server = spawnServe({
    DATABASE_URL: url.toString(),
    DATABASE_PASSWORD_FILE: file("db-password", `${secrets.password}\n`),
    SESSION_SECRET: secrets.session,
    SIMULATOR_TOKEN_FILE: file("simulator-token", token),
    NODE_ENV: "production",
    LOG_LEVEL: "trace",
    PORT: String(port),
    API_PORT: String(apiPort),
    DRAIN_DELAY_MS: "0",
  });
  try {
    await server.ready(`http://127.0.0.1:${port}`);
    const api = apiClient(`http://127.0.0.1:${apiPort}`, `Basic ${token}`);
    expect(
      (await api.post("/register?latest=1", { username: "u1", email: "u1@x.org", pwd: secrets.userPassword })).status,
    ).toBe(204);
    const stranger = apiClient(`http://127.0.0.1:${apiPort}`, `Basic ${secrets.wrongToken}`);
    expect((await stranger.get("/msgs")).status).toBe(403);
    const web = webClient(`http://127.0.0.1:${port}`);
    await web.register("webuser", secrets.userPassword);
    expect((await web.login("webuser", secrets.userPassword)).status).toBe(200);
    const cookies = [...web.jar.values()];
    expect(cookies.length).toBeGreaterThan(0);
    expect(await server.stop()).toBe(0);
    const output = server.lines.join("\n") + (await server.stderr);
    expect(output).toContain('"msg":"minitwit is listening"');
    const found = [...Object.entries(secrets), ["token", token], ...cookies.map((c, i) => [`cookie ${i}`, c])].filter(
      ([, value]) => output.includes(value as string),
    );
    expect(found).toEqual([]);
  } finally {
    server.proc.kill();
  }
}, 60_000);
