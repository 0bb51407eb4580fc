// All configuration, parsed once in `main` from the environment and the
// command's flags (flags win). Everything else receives the frozen result and
// never reads process.env. Every secret X can also be given as X_FILE.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError } from "./errors";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The credential of the course's simulator (`simulator:super_safe!`), public. */
export const DEFAULT_SIMULATOR_TOKEN = "c2ltdWxhdG9yOnN1cGVyX3NhZmUh";

export interface Config {
  readonly databaseUrl: string | null;
  readonly dataDir: string;
  readonly dbPoolMax: number;
  readonly host: string;
  readonly port: number;
  readonly apiPort: number;
  readonly logLevel: LogLevel;
  /** The base64 credential expected after `Authorization: Basic `. */
  readonly simulatorToken: string;
  readonly sessionSecret: string | null;
  readonly migrate: boolean;
  readonly shutdownTimeoutMs: number;
}

export type Env = Readonly<Record<string, string | undefined>>;
export type Flags = Readonly<Record<string, string | boolean | string[] | boolean[] | undefined>>;

export function loadConfig(env: Env, flags: Flags = {}): Config {
  const pick = (flag: string, variable: string): [string | undefined, string] => {
    const fromFlag = flags[flag];
    if (typeof fromFlag === "string") return [fromFlag, `--${flag}`];
    return [nonEmpty(env[variable]), variable];
  };
  const databaseUrl = pick("database-url", "DATABASE_URL");
  return Object.freeze({
    databaseUrl: databaseUrl[0] === undefined ? null : postgresUrl(...databaseUrl),
    dataDir: resolve(pick("data-dir", "DATA_DIR")[0] ?? "./data"),
    dbPoolMax: integer(nonEmpty(env.DATABASE_POOL_MAX), "DATABASE_POOL_MAX", 10, 1, 1000),
    host: pick("host", "HOST")[0] ?? "0.0.0.0",
    port: integer(...pick("port", "PORT"), 5000, 0, 65535),
    apiPort: integer(...pick("api-port", "API_PORT"), 5001, 0, 65535),
    logLevel: logLevel(...pick("log-level", "LOG_LEVEL")),
    simulatorToken: secret(env, "SIMULATOR_TOKEN") ?? DEFAULT_SIMULATOR_TOKEN,
    sessionSecret: secret(env, "SESSION_SECRET"),
    migrate: flags["no-migrate"] !== true,
    shutdownTimeoutMs: integer(nonEmpty(env.SHUTDOWN_TIMEOUT_MS), "SHUTDOWN_TIMEOUT_MS", 10_000, 0, 600_000),
  });
}

/** Reads secret NAME from the environment or from the file named by NAME_FILE. */
export function secret(env: Env, name: string): string | null {
  const direct = nonEmpty(env[name]);
  const file = nonEmpty(env[`${name}_FILE`]);
  if (direct !== undefined && file !== undefined) {
    throw new ConfigError(`${name} and ${name}_FILE are both set; set only one`);
  }
  if (file === undefined) return direct ?? null;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`${name}_FILE: cannot read ${file}: ${(err as Error).message}`);
  }
  const value = text.replace(/\r?\n$/, "");
  if (value === "") throw new ConfigError(`${name}_FILE: ${file} is empty`);
  return value;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

function integer(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${value}"`);
  }
  return n;
}

function logLevel(value: string | undefined, name: string): LogLevel {
  if (value === undefined) return "info";
  const level = value.toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError(`${name} must be one of ${LOG_LEVELS.join(", ")}, got "${value}"`);
  }
  return level as LogLevel;
}

function postgresUrl(value: string | undefined, name: string): string {
  let url: URL;
  try {
    url = new URL(value ?? "");
  } catch {
    throw new ConfigError(`${name} must be a postgres:// URL, got "${redactUrl(value ?? "")}"`);
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new ConfigError(`${name} must be a postgres:// URL, got "${redactUrl(value ?? "")}"`);
  }
  return url.toString();
}

/** A URL fit for messages and logs: the password replaced. */
export function redactUrl(value: string): string {
  return value.replace(/(\/\/[^:/@]*:)[^@]*@/, "$1***@");
}
