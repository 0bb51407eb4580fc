// The command model: each command loads only the configuration it reads,
// typed options share one parser and one wording, sub-commands have their own
// help, and --verbose shows the causes behind an error.
import { describe, expect, test } from "bun:test";
import { readOptions } from "../../src/cli/command";
import { loadConfig } from "../../src/config/settings";
import { UsageError } from "../../src/errors";
import { runMinitwit } from "../support/cli";

describe("a command reads only the settings it declares", () => {
  test.each([
    ["version", ["version"], { BACKUP_ENCRYPTION_KEY: "bad" }],
    ["version", ["version"], { PORT: "abc", LOG_LEVEL: "loud", DATABASE_URL: "mysql://x" }],
    ["help", ["help"], { PORT: "abc", BACKUP_ENCRYPTION_KEY: "bad" }],
    ["help of a command", ["help", "backup"], { PORT: "abc" }],
    ["check-allow", ["check-allow", "127.0.0.1"], { BACKUP_ENCRYPTION_KEY: "bad", DATABASE_URL: "nope" }],
  ])("%s works whatever else the environment holds", async (_, args, env) => {
    const result = await runMinitwit(args, env);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });

  test.each([
    [["backup"], { BACKUP_ENCRYPTION_KEY: "bad" }, "BACKUP_ENCRYPTION_KEY"],
    [["messages"], { DATABASE_URL: "mysql://x" }, "DATABASE_URL"],
    [["serve"], { PORT: "abc" }, "PORT"],
    [["replicate", "status"], { REPLICATION_SOURCE_URL: "nope" }, "REPLICATION_SOURCE_URL"],
  ])("%j stops on a bad setting it uses, naming it", async (args, env, name) => {
    const result = await runMinitwit(args, env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`configuration: ${name}`);
  });

  test("a setting of a section that was not loaded throws when read, instead of being undefined", () => {
    const config = loadConfig({}, {}, ["core"]);
    expect(config.logLevel).toBe("info");
    expect(() => config.port).toThrow(/server settings/);
  });
});

describe("typed options", () => {
  const specs = {
    count: { type: "integer", min: 1, max: 10 },
    wait: { type: "duration", unit: "s", min: 1, max: 3600 },
    name: { type: "string" },
    yes: { type: "boolean" },
  } as const;

  test.each([
    [{ count: "7" }, { count: 7 }],
    [{ wait: "30" }, { wait: 30_000 }],
    [{ wait: "90s" }, { wait: 90_000 }],
    [{ wait: "5m" }, { wait: 300_000 }],
    [{ wait: "1h" }, { wait: 3_600_000 }],
    [
      { name: "x", yes: true },
      { name: "x", yes: true },
    ],
  ])("%j reads as %j", (flags, expected) => {
    expect(readOptions(specs, flags, "test")).toEqual(expected);
  });

  test.each([
    [{ count: "0" }, '--count must be an integer from 1 to 10, got "0"'],
    [{ count: "11" }, "--count must be an integer from 1 to 10"],
    [{ count: "1.5" }, "--count must be an integer"],
    [{ count: "-1" }, "--count must be an integer"],
    [{ wait: "2h" }, "--wait must be an integer from 1 to 3600 (s), or a duration"],
    [{ wait: "soon" }, "--wait must be an integer"],
  ])("%j is a usage error: %s", (flags, message) => {
    expect(() => readOptions(specs, flags, "test")).toThrow(UsageError);
    expect(() => readOptions(specs, flags, "test")).toThrow(message);
  });

  test("every command words a bad integer the same way", async () => {
    for (const args of [
      ["messages", "--limit", "x"],
      ["seed", "--users", "x"],
      ["backup", "--keep-days", "x"],
    ]) {
      const result = await runMinitwit(args);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`${args[1]} must be an integer from`);
    }
  });
});

describe("sub-commands", () => {
  test.each([
    ["start", "--publisher-url"],
    ["status", "--json"],
    ["cutover", "--max-lag"],
    ["abort", "give writes back"],
  ])("replicate %s --help prints that step's own usage", async (step, expected) => {
    const result = await runMinitwit(["replicate", step, "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toStartWith(`Usage: minitwit replicate ${step}`);
    expect(result.stdout).toContain(expected);
    expect((await runMinitwit(["help", "replicate", step])).stdout).toBe(result.stdout);
  });

  test("the overview of the command still lists every step", async () => {
    const result = await runMinitwit(["replicate", "--help"]);
    for (const step of ["start", "status", "cutover", "abort"]) expect(result.stdout).toContain(`  ${step}  `);
  });
});

test("--verbose prints the chain of causes; without it, only the message", async () => {
  const args = ["replicate", "status", "--from", "postgres://u:pw@127.0.0.1:1/a", "--to", "postgres://u@127.0.0.1:1/b"];
  const plain = await runMinitwit(args);
  expect(plain.code).toBe(1);
  expect(plain.stderr).toContain("cannot connect to the source");
  expect(plain.stderr).not.toContain("caused by");
  for (const verbose of [await runMinitwit([...args, "--verbose"]), await runMinitwit(args, { LOG_LEVEL: "debug" })]) {
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toContain("caused by: connect ECONNREFUSED");
  }
}, 30_000);
