// All configuration, parsed once per command in `main` from the environment
// and the command's flags (flags win), and only the sections that command
// reads: `minitwit version` runs whatever the environment holds, and a bad
// setting stops only the commands that use it. Everything else receives the
// frozen result and never reads process.env. Every secret X can also be
// given as X_FILE.
import { resolve } from "node:path";
import type { Cidr } from "./cidr";
import {
  ageKeys,
  backupPrefix,
  cidrList,
  databaseUrlWithPassword,
  type Env,
  encryptionKey,
  httpUrl,
  integer,
  type LogLevel,
  logLevel,
  nonEmpty,
  optionalPostgresUrl,
  originList,
  secret,
  secretName,
} from "./values";

export type { Env, LogLevel };

/** The credential of the course's simulator (`simulator:super_safe!`), public. */
export const DEFAULT_SIMULATOR_TOKEN = "c2ltdWxhdG9yOnN1cGVyX3NhZmUh";

/** What every command that does any work reads. */
export interface CoreSettings {
  readonly logLevel: LogLevel;
  /** Who runs an operator command (USER), recorded with moderation changes. */
  readonly operator: string;
  /** The address every listener binds: the servers, and the backup schedule's /metrics. */
  readonly host: string;
}

export interface DatabaseSettings {
  readonly databaseUrl: string | null;
  readonly dataDir: string;
  readonly dbPoolMax: number;
  readonly migrate: boolean;
}

export interface ServerSettings {
  readonly port: number;
  readonly apiPort: number;
  /** Serves /metrics only; the proxy never routes to it. */
  readonly metricsPort: number;
  /** The base64 credential expected after `Authorization: Basic `. */
  readonly simulatorToken: string;
  readonly sessionSecret: string | null;
  /** Peers whose X-Forwarded-For / X-Forwarded-Proto headers are believed. */
  readonly trustedProxies: readonly Cidr[];
  readonly shutdownTimeoutMs: number;
  /** After SIGTERM, how long to keep serving (unready, closing each connection) before stopping to listen. */
  readonly drainDelayMs: number;
  /** Headers, CORS, allow-list, limits and production safety checks. */
  readonly security: SecuritySettings;
}

export interface BackupSettings {
  /** Where backups are stored: any S3-compatible object store. */
  readonly s3: S3Settings;
  /** Backup object keys start with `<backupPrefix>/`. */
  readonly backupPrefix: string;
  /** AES-256 key (32 bytes) of format 1's MTWENC1 encryption: decrypts backups made before age; null: none. */
  readonly backupEncryptionKey: Uint8Array | null;
  /** age public keys (`age1…`) that backups are encrypted to; empty: backups are not encrypted. */
  readonly backupAgeRecipients: readonly string[];
  /** age identities (`AGE-SECRET-KEY-1…`) that decrypt backups on restore; empty: none. */
  readonly backupAgeIdentities: readonly string[];
}

export interface ReplicationSettings {
  /** `minitwit replicate` moves from this database when --from is not given (a secret: it holds a password). */
  readonly replicationSourceUrl: string | null;
  /** ... and to this one when --to is not given. */
  readonly replicationTargetUrl: string | null;
}

export type Config = CoreSettings & DatabaseSettings & ServerSettings & BackupSettings & ReplicationSettings;

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
  /** Sign-ups per client address and hour, shared by the replicas; the simulator is exempt; 0 turns it off. */
  readonly signupLimitPerHour: number;
  /** Seconds a connection may sit idle (slow clients) before it is closed. */
  readonly idleTimeoutS: number;
  readonly production: boolean;
  readonly allowDefaultSimulatorToken: boolean;
}

/** S3 settings as given; `requireS3` (src/backup/targets/s3.ts) says which are missing. */
export interface S3Settings {
  readonly endpoint: string | null;
  readonly bucket: string | null;
  readonly region: string | null;
  readonly accessKeyId: string | null;
  readonly secretAccessKey: string | null;
}

export type Flags = Readonly<Record<string, string | boolean | string[] | boolean[] | undefined>>;

export const SECTIONS = ["core", "database", "server", "backup", "replication"] as const;
export type Section = (typeof SECTIONS)[number];

type Pick = (flag: string, variable: string) => [string | undefined, string];

// Each section's settings, parsed from the environment and the flags.
const PARSERS: { readonly [S in Section]: (env: Env, pick: Pick, flags: Flags) => object } = {
  core: (env, pick): CoreSettings => ({
    logLevel: logLevel(...pick("log-level", "LOG_LEVEL")),
    operator: nonEmpty(env.USER) ?? nonEmpty(env.LOGNAME) ?? "unknown",
    host: pick("host", "HOST")[0] ?? "0.0.0.0",
  }),
  database: (env, pick, flags): DatabaseSettings => ({
    // DATABASE_URL_FILE: the address in one place (a Swarm config) for the app, the backup service and migrations.
    databaseUrl: databaseUrlWithPassword(
      typeof flags["database-url"] === "string"
        ? pick("database-url", "DATABASE_URL")
        : [secret(env, "DATABASE_URL") ?? undefined, secretName(env, "DATABASE_URL")],
      secret(env, "DATABASE_PASSWORD"),
    ),
    dataDir: resolve(pick("data-dir", "DATA_DIR")[0] ?? "./data"),
    dbPoolMax: integer(nonEmpty(env.DATABASE_POOL_MAX), "DATABASE_POOL_MAX", 10, 1, 1000),
    migrate: flags["no-migrate"] !== true,
  }),
  server: (env, pick): ServerSettings => ({
    port: integer(...pick("port", "PORT"), 5000, 0, 65535),
    apiPort: integer(...pick("api-port", "API_PORT"), 5001, 0, 65535),
    metricsPort: integer(...pick("metrics-port", "METRICS_PORT"), 5002, 0, 65535),
    simulatorToken: secret(env, "SIMULATOR_TOKEN") ?? DEFAULT_SIMULATOR_TOKEN,
    sessionSecret: secret(env, "SESSION_SECRET"),
    trustedProxies: cidrList(nonEmpty(env.TRUSTED_PROXIES), "TRUSTED_PROXIES"),
    shutdownTimeoutMs: integer(nonEmpty(env.SHUTDOWN_TIMEOUT_MS), "SHUTDOWN_TIMEOUT_MS", 10_000, 0, 600_000),
    drainDelayMs: integer(nonEmpty(env.DRAIN_DELAY_MS), "DRAIN_DELAY_MS", 5_000, 0, 600_000),
    security: securitySettings(env),
  }),
  backup: (env): BackupSettings => ({
    s3: s3Settings(env),
    backupPrefix: backupPrefix(nonEmpty(env.BACKUP_PREFIX)),
    backupEncryptionKey: encryptionKey(secret(env, "BACKUP_ENCRYPTION_KEY"), "BACKUP_ENCRYPTION_KEY"),
    backupAgeRecipients: ageKeys(secret(env, "BACKUP_AGE_RECIPIENTS"), secretName(env, "BACKUP_AGE_RECIPIENTS")),
    backupAgeIdentities: ageKeys(secret(env, "BACKUP_AGE_IDENTITY"), secretName(env, "BACKUP_AGE_IDENTITY")),
  }),
  replication: (env): ReplicationSettings => ({
    replicationSourceUrl: optionalPostgresUrl(secret(env, "REPLICATION_SOURCE_URL"), "REPLICATION_SOURCE_URL"),
    replicationTargetUrl: optionalPostgresUrl(secret(env, "REPLICATION_TARGET_URL"), "REPLICATION_TARGET_URL"),
  }),
};

// The keys of each section, for the guard on sections a command did not load.
const SECTION_KEYS: { readonly [S in Section]: readonly string[] } = {
  core: ["logLevel", "operator", "host"] satisfies (keyof CoreSettings)[],
  database: ["databaseUrl", "dataDir", "dbPoolMax", "migrate"] satisfies (keyof DatabaseSettings)[],
  server: [
    "port",
    "apiPort",
    "metricsPort",
    "simulatorToken",
    "sessionSecret",
    "trustedProxies",
    "shutdownTimeoutMs",
    "drainDelayMs",
    "security",
  ] satisfies (keyof ServerSettings)[],
  backup: [
    "s3",
    "backupPrefix",
    "backupEncryptionKey",
    "backupAgeRecipients",
    "backupAgeIdentities",
  ] satisfies (keyof BackupSettings)[],
  replication: ["replicationSourceUrl", "replicationTargetUrl"] satisfies (keyof ReplicationSettings)[],
};

/**
 * Parses the settings of `sections` (all of them unless told). A setting of a
 * section that was not loaded throws when read: a command that reads what it
 * did not declare is a bug, found by its first test.
 */
export function loadConfig(env: Env, flags: Flags = {}, sections: readonly Section[] = SECTIONS): Config {
  const pick: Pick = (flag, variable) => {
    const fromFlag = flags[flag];
    if (typeof fromFlag === "string") return [fromFlag, `--${flag}`];
    return [nonEmpty(env[variable]), variable];
  };
  const config: Record<string, unknown> = {};
  for (const section of SECTIONS) {
    if (sections.includes(section)) {
      Object.assign(config, PARSERS[section](env, pick, flags));
      continue;
    }
    for (const key of SECTION_KEYS[section]) {
      Object.defineProperty(config, key, {
        get() {
          throw new Error(
            `the ${section} settings (${key}) were read but not loaded: add "${section}" to the command's settings`,
          );
        },
      });
    }
  }
  return Object.freeze(config) as unknown as Config;
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
    signupLimitPerHour: int("SIGNUP_LIMIT_PER_HOUR", 30, 0, 1_000_000),
    idleTimeoutS: int("IDLE_TIMEOUT_S", 30, 1, 255),
    production: env.NODE_ENV === "production",
    allowDefaultSimulatorToken: env.ALLOW_DEFAULT_SIMULATOR_TOKEN === "1",
  });
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
