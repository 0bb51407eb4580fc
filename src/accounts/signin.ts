// Signing in, the web form's only way in: the throttle's verdict first (a
// lock answers 429; a slow-down waits), then the password check, which costs
// the same for an unknown name as for a known one. A success releases the
// throttle's counters and turns a legacy hash (an imported database) into
// argon2id.
import type { Db } from "../database/open";
import { HttpError } from "../errors";
import { type User, updatePasswordHash, userByName } from "../store/users";
import { hashPassword, needsRehash, verifyPassword, verifyUnknownUser } from "./passwords/hashing";
import type { SignInThrottle } from "./throttle";

export interface SignInAttempt {
  readonly username: string;
  readonly password: string;
  /** The client's address, for the throttle. */
  readonly address: string;
}

/**
 * The user, or the spec's error text for the form. Throws a 429 HttpError
 * while the throttle holds the name or address locked, after setting
 * `retry-after` in `headers`.
 */
export async function signIn(
  db: Db,
  throttle: SignInThrottle,
  attempt: SignInAttempt,
  headers: Record<string, string | number>,
): Promise<User | string> {
  const { username, password, address } = attempt;
  const verdict = await throttle.attempt(username, address);
  if ("retryAfterS" in verdict) {
    headers["retry-after"] = String(verdict.retryAfterS);
    throw new HttpError(429, `Too many failed sign-ins. Try again in ${verdict.retryAfterS} seconds.`);
  }
  if (verdict.delayMs > 0) await Bun.sleep(verdict.delayMs);
  const user = await userByName(db, username);
  // An unknown name costs a hash check too, so the answer's timing does not tell which names exist.
  const matches = user === null ? await verifyUnknownUser(password) : await verifyPassword(user.pwHash, password);
  if (user === null) return "Invalid username";
  if (!matches) return "Invalid password";
  await throttle.succeeded(username, address, user.usernameTwin);
  if (needsRehash(user.pwHash)) await updatePasswordHash(db, user.userId, await hashPassword(password));
  return user;
}
