// The password hashes legacy MiniTwit databases hold, kept by `minitwit
// import` so those users can still sign in (and get an argon2id hash then):
//
// - werkzeug's `pbkdf2:<digest>[:<iterations>]$<salt>$<hex>`: PBKDF2-HMAC of
//   the UTF-8 password with the salt string's UTF-8 bytes, key length equal to
//   the digest size, hex encoded. Werkzeug always writes the iteration count;
//   when a hash lacks it, werkzeug verifies with its own default. The original
//   MiniTwit imports `check_password_hash` from the top-level `werkzeug`
//   package, which only the 0.x releases offered; the last of them (0.15,
//   0.16) and 1.0 default to 150,000 iterations.
// - unsalted hex SHA-256 of the UTF-8 password (64 hex digits).
//
// Every comparison is constant-time, and PBKDF2 runs on libuv's thread pool so
// a sign-in never stalls other requests.
import { createHash, pbkdf2, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";

const pbkdf2Async = promisify(pbkdf2);

/** werkzeug 0.15 to 1.0: `DEFAULT_PBKDF2_ITERATIONS = 150000` (0.12 to 0.14 used 50,000, 2.0 260,000). */
export const WERKZEUG_DEFAULT_ITERATIONS = 150_000;

// A stored value asking for more work than this is corrupt or hostile; it is
// refused rather than allowed to pin a thread for minutes.
const MAX_ITERATIONS = 10_000_000;

const DIGEST_BYTES = { sha1: 20, sha256: 32, sha512: 64 } as const;
type Digest = keyof typeof DIGEST_BYTES;

const WERKZEUG_PBKDF2 = /^pbkdf2:(sha1|sha256|sha512)(?::(\d+))?\$([^$]+)\$([0-9a-fA-F]+)$/;
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

export type LegacyHashKind = "werkzeug-pbkdf2" | "sha256";

/** Which legacy format `stored` is in, or null when it is none of them. */
export function legacyHashKind(stored: string): LegacyHashKind | null {
  if (WERKZEUG_PBKDF2.test(stored)) return "werkzeug-pbkdf2";
  if (SHA256_HEX.test(stored)) return "sha256";
  return null;
}

/** True when `password` matches a legacy hash; false for a mismatch or a value that is no legacy hash. */
export async function verifyLegacyPassword(stored: string, password: string): Promise<boolean> {
  const werkzeug = WERKZEUG_PBKDF2.exec(stored);
  if (werkzeug !== null) {
    const [, digest, rounds, salt, hex] = werkzeug as unknown as [string, Digest, string | undefined, string, string];
    const iterations = rounds === undefined ? WERKZEUG_DEFAULT_ITERATIONS : Number(rounds);
    if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) return false;
    const expected = Buffer.from(hex, "hex");
    if (expected.length !== DIGEST_BYTES[digest] || hex.length !== expected.length * 2) return false;
    const derived = await pbkdf2Async(
      Buffer.from(password, "utf8"),
      Buffer.from(salt, "utf8"),
      iterations,
      expected.length,
      digest,
    );
    return timingSafeEqual(derived, expected);
  }
  if (SHA256_HEX.test(stored)) {
    const derived = createHash("sha256").update(password, "utf8").digest();
    return timingSafeEqual(derived, Buffer.from(stored, "hex"));
  }
  return false;
}
