// Signed cookies for the web session and its flash messages. A cookie value
// is `v1.<payload>.<HMAC-SHA256>`; anything that fails the check is ignored,
// as if there were no cookie. The session cookie's payload is a random
// session id (src/accounts/sessions.ts); the session itself lives in the
// database. The secret comes from SESSION_SECRET(_FILE), or is generated
// once and kept in DATA_DIR.
import { timingSafeEqual } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../../config/settings";

export const SESSION_COOKIE = "minitwit_session";
export const FLASH_COOKIE = "minitwit_flash";

export class CookieSigner {
  constructor(private readonly secret: string) {}

  sign(payload: string): string {
    const body = Buffer.from(payload).toString("base64url");
    return `v1.${body}.${this.mac(body)}`;
  }

  /** The payload of a cookie this signer made, or null. */
  verify(token: string | undefined): string | null {
    if (typeof token !== "string") return null;
    const [version, body, mac, extra] = token.split(".");
    if (version !== "v1" || body === undefined || mac === undefined || extra !== undefined) return null;
    const expected = Buffer.from(this.mac(body));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    return Buffer.from(body, "base64url").toString();
  }

  private mac(body: string): string {
    return new Bun.CryptoHasher("sha256", this.secret).update(body).digest("base64url");
  }
}

/** The configured secret, or the one kept in DATA_DIR (created on first use). */
export function sessionSecret(config: Config): string {
  if (config.sessionSecret !== null) return config.sessionSecret;
  const path = join(config.dataDir, "session-secret");
  if (existsSync(path)) {
    const kept = readFileSync(path, "utf8").trim();
    if (kept.length >= 32) return kept;
  }
  mkdirSync(config.dataDir, { recursive: true });
  const fresh = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
  writeFileSync(path, `${fresh}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return fresh;
}
