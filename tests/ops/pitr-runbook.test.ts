// The point-in-time recovery runbook can be followed against any S3 store:
// it names path-style addressing, HTTPS and --start-fast, and the override
// it gives for the shipped pgbackrest.conf's host style does take effect.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..", "..");
const runbook = readFileSync(join(root, "docs", "operations.md"), "utf8");
const section = runbook.slice(
  runbook.indexOf("## Recovering to a point in time"),
  runbook.indexOf("## Moving to a new database"),
);

describe("the point-in-time recovery runbook", () => {
  test("names HTTPS, path-style addressing and how to set it, and --start-fast", () => {
    expect(section).toContain("`S3_ENDPOINT` must be an `https://` URL");
    expect(section).toContain("PGBACKREST_REPO1_S3_URI_STYLE=path");
    expect(section).toContain("--repo1-s3-uri-style=path");
    expect(section).toContain("--start-fast");
  });

  test("every full backup it gives asks for the checkpoint at once (--start-fast)", () => {
    const fullBackups = section.split("\n").filter((line) => /pgbackrest .*backup --type=full/.test(line));
    expect(fullBackups.length).toBeGreaterThanOrEqual(2);
    for (const line of fullBackups) expect(line).toContain("--start-fast");
  });

  // Against a closed port: the error names the host pgBackRest tried.
  const info = (env: Record<string, string>) => {
    const run = Bun.spawnSync(
      [
        "pgbackrest",
        `--config=${join(root, "ops", "postgres", "pgbackrest.conf")}`,
        "--stanza=minitwit",
        "--io-timeout=1",
        "--lock-path=/tmp",
        "--log-level-stderr=off",
        "info",
      ],
      {
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          PGBACKREST_REPO1_S3_ENDPOINT: "127.0.0.1:9",
          PGBACKREST_REPO1_S3_BUCKET: "backups",
          PGBACKREST_REPO1_S3_REGION: "us-east-1",
          PGBACKREST_REPO1_S3_KEY: "key",
          PGBACKREST_REPO1_S3_KEY_SECRET: "secret",
          PGBACKREST_REPO1_CIPHER_PASS: "passphrase",
          ...env,
        },
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    return run.stdout.toString() + run.stderr.toString();
  };

  test.skipIf(Bun.which("pgbackrest") === null)(
    "the shipped pgbackrest.conf asks for <bucket>.<host>; the runbook's environment variable switches it to path style",
    () => {
      expect(info({})).toContain("unable to get address for 'backups.127.0.0.1'");
      const pathStyle = info({ PGBACKREST_REPO1_S3_URI_STYLE: "path" });
      expect(pathStyle).toContain("unable to connect to '127.0.0.1:9'");
      expect(pathStyle).not.toContain("backups.127.0.0.1");
    },
  );
});
