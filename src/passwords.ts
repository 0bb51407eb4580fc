// Password hashing with argon2id. @node-rs/argon2 runs the hash on a worker
// thread, so a sign-up never stalls other requests on the event loop.
import { Algorithm, hash, verify } from "@node-rs/argon2";
import { legacyHashKind, verifyLegacyPassword } from "./ops/legacy-passwords";

// OWASP's recommended argon2id minimum (19 MiB, 2 passes, 1 lane).
const OPTIONS = { algorithm: Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

/**
 * True when `password` matches `stored`; false for a mismatch or a hash this build cannot read.
 * Besides argon2, accepts the legacy hashes `minitwit import` keeps (werkzeug PBKDF2, unsalted SHA-256).
 */
export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  if (legacyHashKind(stored) !== null) return verifyLegacyPassword(stored, password);
  if (!stored.startsWith("$argon2")) return false;
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

/** True when `stored` should be replaced by a fresh argon2id hash at the next successful sign-in. */
export function needsRehash(stored: string): boolean {
  return !stored.startsWith("$argon2id$");
}
