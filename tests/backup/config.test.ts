// The backup settings in the configuration: S3 under its S3_* or AWS_*
// names, secrets from *_FILE, the encryption key in hex or base64, and a
// clear error naming the variable (never echoing a secret) for bad values.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireS3 } from "../../src/backup/targets/s3";
import { loadConfig } from "../../src/config/settings";
import { ConfigError } from "../../src/errors";

const dir = mkdtempSync(join(tmpdir(), "minitwit-backup-config-"));
const KEY_BYTES = Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 1);
const HEX = Buffer.from(KEY_BYTES).toString("hex");
const BASE64 = Buffer.from(KEY_BYTES).toString("base64");

describe("S3 settings", () => {
  test("defaults: nothing configured, prefix minitwit, no encryption", () => {
    const config = loadConfig({});
    expect(config.s3).toEqual({ endpoint: null, bucket: null, region: null, accessKeyId: null, secretAccessKey: null });
    expect(config.backupPrefix).toBe("minitwit");
    expect(config.backupEncryptionKey).toBeNull();
  });

  test.each([
    [
      "S3_* names",
      { S3_ENDPOINT: "http://s3.local:9000", S3_REGION: "eu", S3_ACCESS_KEY_ID: "id", S3_SECRET_ACCESS_KEY: "sk" },
    ],
    [
      "AWS_* names",
      {
        AWS_ENDPOINT_URL: "http://s3.local:9000",
        AWS_REGION: "eu",
        AWS_ACCESS_KEY_ID: "id",
        AWS_SECRET_ACCESS_KEY: "sk",
      },
    ],
    [
      "*_FILE secrets",
      {
        S3_ENDPOINT: "http://s3.local:9000",
        S3_REGION: "eu",
        S3_ACCESS_KEY_ID_FILE: file("id", "id\n"),
        AWS_SECRET_ACCESS_KEY_FILE: file("sk", "sk"),
      },
    ],
  ])("read from %s", (_, env) => {
    expect(loadConfig({ S3_BUCKET: "b", ...env }).s3).toEqual({
      endpoint: "http://s3.local:9000",
      bucket: "b",
      region: "eu",
      accessKeyId: "id",
      secretAccessKey: "sk",
    });
  });

  test("S3_* wins over AWS_*; the prefix loses its outer slashes", () => {
    const config = loadConfig({ S3_REGION: "s3", AWS_REGION: "aws", BACKUP_PREFIX: "/prod/minitwit/" });
    expect(config.s3.region).toBe("s3");
    expect(config.backupPrefix).toBe("prod/minitwit");
  });

  test("a command that needs S3 names every missing variable", () => {
    expect(() => requireS3(loadConfig({ S3_ACCESS_KEY_ID: "id" }))).toThrow(
      new ConfigError(
        "backups need S3 settings: set S3_BUCKET, S3_SECRET_ACCESS_KEY (or AWS_SECRET_ACCESS_KEY) (and S3_ENDPOINT for a store other than AWS)",
      ),
    );
  });
});

describe("BACKUP_ENCRYPTION_KEY", () => {
  test.each([
    ["64 hex characters", { BACKUP_ENCRYPTION_KEY: HEX }],
    ["upper-case hex", { BACKUP_ENCRYPTION_KEY: HEX.toUpperCase() }],
    ["base64", { BACKUP_ENCRYPTION_KEY: BASE64 }],
    ["base64 without padding, URL-safe", { BACKUP_ENCRYPTION_KEY: Buffer.from(KEY_BYTES).toString("base64url") }],
    ["a file", { BACKUP_ENCRYPTION_KEY_FILE: file("key", `${HEX}\n`) }],
  ])("is read from %s", (_, env) => {
    expect(loadConfig(env).backupEncryptionKey).toEqual(KEY_BYTES);
  });

  test.each([
    ["too short", "abcd"],
    ["31 bytes of hex", HEX.slice(2)],
    ["not hex, not base64", "z".repeat(64)],
    ["base64 of 24 bytes", Buffer.alloc(24, 1).toString("base64")],
  ])("%s is refused without echoing the value", (_, value) => {
    let error: unknown;
    try {
      loadConfig({ BACKUP_ENCRYPTION_KEY: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain("BACKUP_ENCRYPTION_KEY must be 32 bytes");
    expect((error as Error).message).not.toContain(value);
  });
});

test.each([
  [{ S3_ENDPOINT: "s3.local:9000" }, "S3_ENDPOINT"],
  [{ AWS_ENDPOINT_URL: "ftp://x" }, "AWS_ENDPOINT_URL"],
  [{ BACKUP_PREFIX: "a b" }, "BACKUP_PREFIX"],
  [{ BACKUP_PREFIX: "a//b" }, "BACKUP_PREFIX"],
  [{ S3_SECRET_ACCESS_KEY: "x", S3_SECRET_ACCESS_KEY_FILE: "/tmp/x" }, "S3_SECRET_ACCESS_KEY"],
])("%j is refused with a message naming the variable", (env, name) => {
  expect(() => loadConfig(env)).toThrow(ConfigError);
  expect(() => loadConfig(env)).toThrow(name);
});

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("age keys", () => {
  const R1 = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
  const R2 = "age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg";
  const IDENTITY = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX";

  test.each([
    ["one key", { BACKUP_AGE_RECIPIENTS: R1 }, [R1]],
    ["commas and spaces", { BACKUP_AGE_RECIPIENTS: ` ${R1}, ${R2} ` }, [R1, R2]],
    [
      "a recipients file with comments",
      { BACKUP_AGE_RECIPIENTS_FILE: file("recipients", `# ops\n${R1}\n\n${R2} # second\n`) },
      [R1, R2],
    ],
  ])("recipients from %s", (_, env, expected) => {
    expect(loadConfig(env).backupAgeRecipients).toEqual(expected);
  });

  test("the identity from an age-keygen file", () => {
    const keygen = `# created: 2030-01-01T00:00:00Z\n# public key: ${R1}\n${IDENTITY}\n`;
    expect(loadConfig({ BACKUP_AGE_IDENTITY_FILE: file("identity", keygen) }).backupAgeIdentities).toEqual([IDENTITY]);
    expect(loadConfig({}).backupAgeIdentities).toEqual([]);
  });

  test.each([
    [
      "a recipient that is not age1…",
      { BACKUP_AGE_RECIPIENTS: "ssh-ed25519 AAAA" },
      /BACKUP_AGE_RECIPIENTS must hold one or more age public keys/,
    ],
    [
      "a recipients file of comments only",
      { BACKUP_AGE_RECIPIENTS_FILE: file("empty-recipients", "# none\n") },
      /BACKUP_AGE_RECIPIENTS_FILE must hold/,
    ],
    [
      "an identity file holding a public key",
      { BACKUP_AGE_IDENTITY_FILE: file("wrong-identity", `${R1}\n`) },
      /BACKUP_AGE_IDENTITY_FILE must hold one or more age identities/,
    ],
  ])("%s is refused", (_, env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  test("a malformed identity is never echoed", () => {
    const secretish = "AGE-SECRET-KEY-1oops-lowercase";
    expect(() => loadConfig({ BACKUP_AGE_IDENTITY_FILE: file("bad-identity", secretish) })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining("oops") }),
    );
  });
});
