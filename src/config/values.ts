// How each kind of setting is read from its text: integers with a range,
// secrets with their *_FILE twins, URLs, lists, keys. Every function names
// the variable (or flag) in its error and never echoes a secret.
import { readFileSync } from "node:fs";
import { ConfigError } from "../errors";
import { type Cidr, parseCidr } from "./cidr";
import { postgresUrlProblem, redactUrl, serverUrls, withPassword } from "./postgres-url";

export type Env = Readonly<Record<string, string | undefined>>;

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A comma-separated list of origins (`https://example.com`); empty when unset. */
export function originList(value: string | undefined, name: string): readonly string[] {
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
    throw new ConfigError(`${name}_FILE: cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  const value = text.replace(/\r?\n$/, "");
  if (value === "") throw new ConfigError(`${name}_FILE: ${file} is empty`);
  return value;
}

export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

export function integer(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  return parseInteger(value, name, min, max, (message) => new ConfigError(message));
}

/**
 * The one integer parser of the configuration and the CLI's options: decimal
 * digits only, within [min, max]; anything else throws `make(message)`.
 */
export function parseInteger<E extends Error>(
  raw: string,
  name: string,
  min: number,
  max: number,
  make: (message: string) => E,
): number {
  const text = raw.trim();
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw make(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
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

export function logLevel(value: string | undefined, name: string): LogLevel {
  if (value === undefined) return "info";
  const level = value.toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError(`${name} must be one of ${LOG_LEVELS.join(", ")}, got "${value}"`);
  }
  return level as LogLevel;
}

export function postgresUrl(value: string | undefined, name: string): string {
  const problem = postgresUrlProblem(value ?? "");
  if (problem !== null) throw new ConfigError(`${name} ${problem}`);
  // A URL of several servers is kept as written: the URL class reads only one.
  const servers = serverUrls(value as string);
  return servers.length > 1 ? (value as string) : new URL(value as string).toString();
}

export function optionalPostgresUrl(value: string | null, name: string): string | null {
  return value === null ? null : postgresUrl(value, name);
}

/**
 * DATABASE_URL with the password from DATABASE_PASSWORD (or DATABASE_PASSWORD_FILE,
 * a Swarm secret) put in, so the URL itself holds no secret.
 */
export function databaseUrlWithPassword(
  [value, name]: [string | undefined, string],
  password: string | null,
): string | null {
  if (value === undefined) {
    if (password !== null) throw new ConfigError("DATABASE_PASSWORD is set but DATABASE_URL is not");
    return null;
  }
  const url = postgresUrl(value, name);
  if (password === null) return url;
  const first = new URL(serverUrls(url)[0] as string);
  if (first.username === "") throw new ConfigError(`${name} must name a user when DATABASE_PASSWORD is set`);
  if (first.password !== "") {
    throw new ConfigError(`${name} has a password and DATABASE_PASSWORD is set; set only one`);
  }
  return withPassword(url, password);
}

export function httpUrl(value: string | undefined, name: string): string | null {
  if (value === undefined) return null;
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
    throw new ConfigError(`${name} must be an http:// or https:// URL, got "${redactUrl(value)}"`);
  }
  return value;
}

/** Slashes at either end are dropped: "backups/minitwit/" and "backups/minitwit" name one place. */
export function backupPrefix(value: string | undefined): string {
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

/**
 * age keys as age's own files hold them: separated by newlines, commas or
 * spaces, "#" starting a comment (age-keygen writes the public key in one).
 * Recipients are `age1…` public keys; identities are `AGE-SECRET-KEY-…`
 * secrets. Both settings are read as secrets, so no message quotes any part
 * of them: a bad entry is named by its position, and an identity given where
 * a recipient belongs is called what it is.
 */
export function ageKeys(value: string | null, name: string): readonly string[] {
  if (value === null) return Object.freeze([]);
  const identities = name.startsWith("BACKUP_AGE_IDENTITY");
  const keys = value
    .split("\n")
    .map((line) => line.replace(/#.*$/, ""))
    .flatMap((line) => line.split(/[\s,]+/))
    .filter((key) => key !== "");
  if (!identities && keys.some((key) => /^AGE-(SECRET-KEY|PLUGIN)-/i.test(key))) {
    const holder = name.endsWith("_FILE") ? "this file holds" : "it holds";
    throw new ConfigError(
      `${name}: ${holder} an age identity (a secret key), not a recipient; use \`age-keygen -y\` to get its ` +
        "public key (age1…) and give that instead, and keep the identity off this machine",
    );
  }
  const pattern = identities ? /^AGE-SECRET-KEY-(PQ-)?1[0-9A-Z]+$/ : /^age1[0-9a-z]+$/;
  // A key with a wrong character is refused here too: the age library's own
  // error for it quotes the whole key.
  const bad = keys.findIndex((key) => !pattern.test(key) || !bech32ChecksumHolds(key));
  if (bad !== -1 || keys.length === 0) {
    const what = identities
      ? "age identities (AGE-SECRET-KEY-1…, as age-keygen writes them)"
      : "age public keys (age1…, as `age-keygen -y` prints them)";
    const which =
      bad === -1
        ? ""
        : `; entry ${bad + 1} of ${keys.length} is not one${pattern.test(keys[bad] as string) ? " (its checksum does not match: a character is wrong or missing)" : ""}`;
    throw new ConfigError(`${name} must hold one or more ${what}${which}`);
  }
  return Object.freeze(keys);
}

const BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const BECH32_GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

/** Whether a Bech32 string's checksum holds (BIP 173; age's keys are Bech32 without its length limit). */
function bech32ChecksumHolds(text: string): boolean {
  const lower = text.toLowerCase();
  const separator = lower.lastIndexOf("1");
  if (separator < 1 || separator + 7 > lower.length) return false;
  const prefix = [...lower.slice(0, separator)].map((c) => c.charCodeAt(0));
  const data = [...lower.slice(separator + 1)].map((c) => BECH32_CHARSET.indexOf(c));
  if (data.includes(-1)) return false;
  let check = 1;
  for (const value of [...prefix.map((c) => c >> 5), 0, ...prefix.map((c) => c & 31), ...data]) {
    const top = check >>> 25;
    check = ((check & 0x1ffffff) << 5) ^ value;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) check ^= BECH32_GENERATOR[i] as number;
  }
  return check === 1;
}

/** The name to put in a message about secret NAME: NAME_FILE when it came from the file. */
export function secretName(env: Env, name: string): string {
  return nonEmpty(env[`${name}_FILE`]) === undefined ? name : `${name}_FILE`;
}
