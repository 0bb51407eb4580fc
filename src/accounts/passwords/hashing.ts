// Password hashing with argon2id. @node-rs/argon2 runs the hash on a worker
// thread, so a sign-up never stalls other requests on the event loop.
import { Algorithm, hash, verify } from "@node-rs/argon2";
import { legacyHashKind, verifyLegacyPassword } from "./werkzeug";

// OWASP's recommended argon2id minimum (19 MiB, 2 passes, 1 lane).
const OPTIONS = { algorithm: Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/**
 * Runs at most `limit` tasks at once, the others in arrival order.
 */
export class Slots {
  private running = 0;
  private readonly queue: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.queue.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next task, or give it back.
      const next = this.queue.shift();
      if (next) next();
      else this.running--;
    }
  }

  /** Tasks running now. */
  active(): number {
    return this.running;
  }
}

// One argon2id computation at a time per process. Each holds 19 MiB while it
// runs, and the runtime's thread pool would run one per core of the host,
// however few of them the container may use (the stack gives a replica one
// CPU): more at once finish no sooner, they only add 19 MiB each. Sign-up
// capacity grows with replicas instead, and a burst of sign-ups or sign-ins
// costs a process the same memory as one.
const argon2 = new Slots(1);

/** argon2id hashes and checks running now; never more than one. */
export function argon2Running(): number {
  return argon2.active();
}

export function hashPassword(password: string): Promise<string> {
  return argon2.run(() => hash(password, OPTIONS));
}

/**
 * True when `password` matches `stored`; false for a mismatch or a hash this build cannot read.
 * Besides argon2, accepts the legacy hashes `minitwit import` keeps (werkzeug PBKDF2, unsalted SHA-256).
 */
export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  if (legacyHashKind(stored) !== null) return verifyLegacyPassword(stored, password);
  if (!stored.startsWith("$argon2")) return false;
  try {
    return await argon2.run(() => verify(stored, password));
  } catch {
    return false;
  }
}

// A hash of a random password, made on first use: checking a password
// against it costs what checking a real user's does.
let dummyHash: Promise<string> | null = null;

/**
 * Checks `password` against a fixed hash no password matches, so that a
 * sign-in for an unknown user takes as long as one for a known user; always false.
 */
export async function verifyUnknownUser(password: string): Promise<false> {
  dummyHash ??= hashPassword(Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("hex"));
  await verifyPassword(await dummyHash, password);
  return false;
}

/** True when `stored` should be replaced by a fresh argon2id hash at the next successful sign-in. */
export function needsRehash(stored: string): boolean {
  return !stored.startsWith("$argon2id$");
}
