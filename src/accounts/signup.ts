// Signing up, the same for the simulator API and the web form: the spec's
// checks in the spec's order, then argon2id and the insert. Names that are
// also fixed web routes (/public, /login, ...) are taken by the system: a
// user called "metrics" could never see their own timeline.
// A name must not pass for another one: it is stored NFC-normalised, is
// unique as the database folds it (NFKC and full case folding), and may hold
// neither what a reader cannot see nor letters of scripts that do not belong
// together (usernames.ts).
import type { Db } from "../database/open";
import { createUser, usernameTaken } from "../store/users";
import { hashPassword } from "./passwords/hashing";
import { usernameProblem } from "./usernames";

const TAKEN = "The username is already taken";

const RESERVED_USERNAMES = new Set([
  "public",
  "login",
  "logout",
  "register",
  "add_message",
  "static",
  "api",
  "metrics",
  "healthz",
  "readyz",
]);

/**
 * The web form's shortest password, checked after the spec's checks so their
 * order and texts stay the course's. Not NIST's 8: the course's own web tests
 * sign up with `default` (7 characters) and the simulator's API keeps the
 * course's contract (any non-empty password); 6 stops `a` and a lone space.
 */
export const WEB_MIN_PASSWORD_LENGTH = 6;

export interface SignUp {
  readonly username: string;
  readonly email: string;
  readonly password: string;
  /** The repeated password of the web form; the API has none. */
  readonly password2?: string;
  /** The shortest password accepted, in characters; the API has none. */
  readonly minPasswordLength?: number;
}

/** Creates the user; returns the spec's error text for the first failed check, or null. */
export async function signUp(db: Db, form: SignUp): Promise<string | null> {
  const { email, password, password2 } = form;
  const username = form.username.normalize("NFC");
  if (username === "") return "You have to enter a username";
  const problem = usernameProblem(username);
  if (problem !== null) return problem;
  if (email === "" || !email.includes("@")) return "You have to enter a valid email address";
  if (password === "") return "You have to enter a password";
  if (password2 !== undefined && password !== password2) return "The two passwords do not match";
  if (RESERVED_USERNAMES.has(username.normalize("NFKC").toLowerCase())) return TAKEN;
  // Checked before hashing so a repeated sign-up costs no argon2 work; the
  // unique indexes still decide races.
  if (await usernameTaken(db, username)) return TAKEN;
  const min = form.minPasswordLength ?? 0;
  if ([...password].length < min) return `The password must be at least ${min} characters long`;
  const created = await createUser(db, { username, email, pwHash: await hashPassword(password) });
  return created === null ? TAKEN : null;
}
