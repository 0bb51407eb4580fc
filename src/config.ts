// All configuration, parsed once in `main` from the environment and the
// command's flags (flags win). Everything else receives the frozen result and
// never reads process.env. Every secret X can also be given as X_FILE.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { type Cidr, parseCidr } from "./cidr";
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
  /** Peers whose X-Forwarded-For / X-Forwarded-Proto headers are believed. */
  readonly trustedProxies: readonly Cidr[];
  readonly migrate: boolean;
  /** Who runs an operator command (USER), recorded with moderation changes. */
  readonly operator: string;
  readonly shutdownTimeoutMs: number;
  /** After SIGTERM, how long to keep serving (unready, closing each connection) before stopping to listen. */
  readonly drainDelayMs: number;
  /** Headers, CORS, allow-list, limits and production safety checks. */
  readonly security: SecuritySettings;
  /** Where backups are stored: any S3-compatible object store. */
  readonly s3: S3Settings;
  /** Backup object keys start with `<backupPrefix>/`. */
  readonly backupPrefix: string;
  /** AES-256 key (32 bytes) that encrypts backups; null: backups are not encrypted. */
  readonly backupEncryptionKey: Uint8Array | null;
  /** `minitwit replicate` moves from this database when --from is not given (a secret: it holds a password). */
  readonly replicationSourceUrl: string | null;
  /** ... and to this one when --to is not given. */
  readonly replicationTargetUrl: string | null;
}

export interface SecuritySettings {
  /** Origins allowed to call the API from a browser (CORS); none by default. */
  readonly corsOrigins: readonly string[];
  /** When set, only these addresses may use the authenticated simulator API. */
  readonly simulatorAllow: readonly Cidr[] | null;
  readonly maxBodyBytes: number;
  readonly maxMessageLength: number;
  readonly maxUsernameLength: number;
  readonly maxEmailLength: number;
  readonly maxPasswordLength: number;
  /** Per-client requests per second for unauthenticated API calls and forms; 0 turns it off. */
  readonly rateLimitPerSecond: number;
  readonly rateLimitBurst: number;
  /** Seconds a connection may sit idle (slow clients) before it is closed. */
  readonly idleTimeoutS: number;
  readonly production: boolean;
  readonly allowDefaultSimulatorToken: boolean;
}

/** S3 settings as given; `requireS3` (src/backup/s3.ts) says which are missing. */
export interface S3Settings {
  readonly endpoint: string | null;
  readonly bucket: string | null;
  readonly region: string | null;
  readonly accessKeyId: string | null;
  readonly secretAccessKey: string | null;
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
    databaseUrl: databaseUrlWithPassword(databaseUrl, secret(env, "DATABASE_PASSWORD")),
    dataDir: resolve(pick("data-dir", "DATA_DIR")[0] ?? "./data"),
    dbPoolMax: integer(nonEmpty(env.DATABASE_POOL_MAX), "DATABASE_POOL_MAX", 10, 1, 1000),
    host: pick("host", "HOST")[0] ?? "0.0.0.0",
    port: integer(...pick("port", "PORT"), 5000, 0, 65535),
    apiPort: integer(...pick("api-port", "API_PORT"), 5001, 0, 65535),
    logLevel: logLevel(...pick("log-level", "LOG_LEVEL")),
    simulatorToken: secret(env, "SIMULATOR_TOKEN") ?? DEFAULT_SIMULATOR_TOKEN,
    sessionSecret: secret(env, "SESSION_SECRET"),
    trustedProxies: cidrList(nonEmpty(env.TRUSTED_PROXIES), "TRUSTED_PROXIES"),
    migrate: flags["no-migrate"] !== true,
    operator: nonEmpty(env.USER) ?? nonEmpty(env.LOGNAME) ?? "unknown",
    shutdownTimeoutMs: integer(nonEmpty(env.SHUTDOWN_TIMEOUT_MS), "SHUTDOWN_TIMEOUT_MS", 10_000, 0, 600_000),
    drainDelayMs: integer(nonEmpty(env.DRAIN_DELAY_MS), "DRAIN_DELAY_MS", 5_000, 0, 600_000),
    security: securitySettings(env),
    s3: s3Settings(env),
    backupPrefix: backupPrefix(nonEmpty(env.BACKUP_PREFIX)),
    backupEncryptionKey: encryptionKey(secret(env, "BACKUP_ENCRYPTION_KEY"), "BACKUP_ENCRYPTION_KEY"),
    replicationSourceUrl: optionalPostgresUrl(secret(env, "REPLICATION_SOURCE_URL"), "REPLICATION_SOURCE_URL"),
    replicationTargetUrl: optionalPostgresUrl(secret(env, "REPLICATION_TARGET_URL"), "REPLICATION_TARGET_URL"),
  });
}

function securitySettings(env: Env): SecuritySettings {
  const int = (name: string, fallback: number, min: number, max: number) =>
    integer(nonEmpty(env[name]), name, fallback, min, max);
  const allow = cidrList(nonEmpty(env.SIMULATOR_ALLOW), "SIMULATOR_ALLOW");
  return Object.freeze({
    corsOrigins: originList(nonEmpty(env.CORS_ORIGINS), "CORS_ORIGINS"),
    simulatorAllow: allow.length === 0 ? null : allow,
    maxBodyBytes: int("MAX_BODY_BYTES", 64 * 1024, 1024, 64 * 1024 * 1024),
    maxMessageLength: int("MAX_MESSAGE_LENGTH", 1000, 1, 100_000),
    maxUsernameLength: int("MAX_USERNAME_LENGTH", 100, 1, 1000),
    maxEmailLength: int("MAX_EMAIL_LENGTH", 254, 3, 1000),
    maxPasswordLength: int("MAX_PASSWORD_LENGTH", 1024, 8, 100_000),
    rateLimitPerSecond: int("RATE_LIMIT_PER_SECOND", 20, 0, 1_000_000),
    rateLimitBurst: int("RATE_LIMIT_BURST", 400, 1, 10_000_000),
    idleTimeoutS: int("IDLE_TIMEOUT_S", 30, 1, 255),
    production: env.NODE_ENV === "production",
    allowDefaultSimulatorToken: env.ALLOW_DEFAULT_SIMULATOR_TOKEN === "1",
  });
}

/** A comma-separated list of origins (`https://example.com`); empty when unset. */
function originList(value: string | undefined, name: string): readonly string[] {
  if (value === undefined) return Object.freeze([]);
  return Object.freeze(
    value.split(",").map((part) => {
      try {
        const url = new URL(part.trim());
        if ((url.protocol === "http:" || url.protocol === "https:") && url.origin === part.trim().replace(/\/$/, "")) {
          return url.origin;
        }
      } catch {}
      throw new ConfigError(
        `${name} must be a comma-separated list of origins like https://example.com, got "${part.trim()}"`,
      );
    }),
  );
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

/** A comma-separated list of CIDR ranges; empty when unset. */
export function cidrList(value: string | undefined, name: string): readonly Cidr[] {
  if (value === undefined) return Object.freeze([]);
  const ranges = value.split(",").map((part) => {
    const range = parseCidr(part);
    if (range === null)
      throw new ConfigError(`${name} must be a comma-separated list of CIDR ranges, got "${part.trim()}"`);
    return range;
  });
  return Object.freeze(ranges);
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

function optionalPostgresUrl(value: string | null, name: string): string | null {
  return value === null ? null : postgresUrl(value, name);
}

/**
 * DATABASE_URL with the password from DATABASE_PASSWORD (or DATABASE_PASSWORD_FILE,
 * a Swarm secret) put in, so the URL itself holds no secret.
 */
function databaseUrlWithPassword([value, name]: [string | undefined, string], password: string | null): string | null {
  if (value === undefined) {
    if (password !== null) throw new ConfigError("DATABASE_PASSWORD is set but DATABASE_URL is not");
    return null;
  }
  const url = postgresUrl(value, name);
  if (password === null) return url;
  const withPassword = new URL(url);
  if (withPassword.username === "") throw new ConfigError(`${name} must name a user when DATABASE_PASSWORD is set`);
  if (withPassword.password !== "") {
    throw new ConfigError(`${name} has a password and DATABASE_PASSWORD is set; set only one`);
  }
  withPassword.password = encodeURIComponent(password);
  return withPassword.toString();
}

/** A URL fit for messages and logs: the password replaced. */
export function redactUrl(value: string): string {
  return value.replace(/(\/\/[^:/@]*:)[^@]*@/, "$1***@");
}

/** S3 settings under their S3_* names, falling back to the AWS_* names every S3 tool knows. */
function s3Settings(env: Env): S3Settings {
  const endpoint = nonEmpty(env.S3_ENDPOINT) === undefined ? "AWS_ENDPOINT_URL" : "S3_ENDPOINT";
  return Object.freeze({
    endpoint: httpUrl(nonEmpty(env[endpoint]), endpoint),
    bucket: nonEmpty(env.S3_BUCKET) ?? null,
    region: nonEmpty(env.S3_REGION) ?? nonEmpty(env.AWS_REGION) ?? null,
    accessKeyId: secret(env, "S3_ACCESS_KEY_ID") ?? secret(env, "AWS_ACCESS_KEY_ID"),
    secretAccessKey: secret(env, "S3_SECRET_ACCESS_KEY") ?? secret(env, "AWS_SECRET_ACCESS_KEY"),
  });
}

function httpUrl(value: string | undefined, name: string): string | null {
  if (value === undefined) return null;
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
    throw new ConfigError(`${name} must be an http:// or https:// URL, got "${redactUrl(value)}"`);
  }
  return value;
}

/** Slashes at either end are dropped: "backups/minitwit/" and "backups/minitwit" name one place. */
function backupPrefix(value: string | undefined): string {
  const prefix = (value ?? "minitwit").replace(/^\/+|\/+$/g, "");
  if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(prefix)) {
    throw new ConfigError(`BACKUP_PREFIX must be path segments of letters, digits, ".", "_" or "-", got "${value}"`);
  }
  return prefix;
}

/** A 32-byte key written as 64 hex characters or as base64 (standard or URL-safe). */
export function encryptionKey(value: string | null, name: string): Uint8Array | null {
  if (value === null) return null;
  if (/^[0-9a-fA-F]{64}$/.test(value)) return new Uint8Array(Buffer.from(value, "hex"));
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) {
    const bytes = Buffer.from(value, "base64");
    if (bytes.length === 32) return new Uint8Array(bytes);
  }
  // Never echo the value: it is a secret, even when malformed.
  throw new ConfigError(
    `${name} must be 32 bytes written as 64 hex characters or base64 (make one with: openssl rand -hex 32)`,
  );
}
