// Configuration: defaults, flags over environment, *_FILE secrets, and a
// clear error naming the variable for every bad value.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_SIMULATOR_TOKEN, loadConfig } from "../../src/config/settings";
import { ConfigError } from "../../src/errors";

const dir = mkdtempSync(join(tmpdir(), "minitwit-config-"));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe("loadConfig", () => {
  test("defaults: embedded database in ./data, ports 5000 and 5001, the course's simulator token", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      databaseUrl: null,
      port: 5000,
      apiPort: 5001,
      logLevel: "info",
      simulatorToken: DEFAULT_SIMULATOR_TOKEN,
      sessionSecret: null,
      migrate: true,
    });
    expect(config.dataDir).toBe(join(process.cwd(), "data"));
    expect(Object.isFrozen(config)).toBe(true);
  });

  test("flags win over the environment", () => {
    const config = loadConfig({ PORT: "6000", LOG_LEVEL: "warn" }, { port: "7000", "no-migrate": true });
    expect(config.port).toBe(7000);
    expect(config.logLevel).toBe("warn");
    expect(config.migrate).toBe(false);
  });

  test("secrets are read from *_FILE, without the trailing newline", () => {
    const config = loadConfig({
      SIMULATOR_TOKEN_FILE: file("token", "s3cret\n"),
      SESSION_SECRET_FILE: file("session", "abc"),
    });
    expect(config.simulatorToken).toBe("s3cret");
    expect(config.sessionSecret).toBe("abc");
    expect(loadConfig({ SIMULATOR_TOKEN: "direct" }).simulatorToken).toBe("direct");
  });

  test.each([
    [{ PORT: "abc" }, "PORT"],
    [{ PORT: "70000" }, "PORT"],
    [{ API_PORT: "-1" }, "API_PORT"],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL"],
    [{ DATABASE_URL: "mysql://x" }, "DATABASE_URL"],
    [{ DATABASE_URL: "not a url" }, "DATABASE_URL"],
    [{ DATABASE_POOL_MAX: "0" }, "DATABASE_POOL_MAX"],
    [{ SIMULATOR_TOKEN_FILE: "/no/such/file" }, "SIMULATOR_TOKEN_FILE"],
    [{ SESSION_SECRET: "a", SESSION_SECRET_FILE: "/tmp/x" }, "SESSION_SECRET"],
  ])("%j is refused with a message naming the variable", (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(name);
  });

  test("a flag's bad value names the flag", () => {
    expect(() => loadConfig({}, { "api-port": "x" })).toThrow("--api-port");
  });

  test("a database password never appears in the error", () => {
    expect(() => loadConfig({ DATABASE_URL: "mysql://u:hunter2@h/db" })).toThrow(/\*\*\*/);
    expect(() => loadConfig({ DATABASE_URL: "mysql://u:hunter2@h/db" })).not.toThrow(/hunter2/);
  });
});
