// Signing up, the same for the simulator API and the web form: the spec's
// checks in the spec's order, then argon2id and the insert. Names that are
// also fixed web routes (/public, /login, ...) are taken by the system: a
// user called "metrics" could never see their own timeline.
import type { Db } from "./database";
import { hashPassword } from "./passwords";
import { createUser, userByName } from "./store/users";

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

export interface SignUp {
  readonly username: string;
  readonly email: string;
  readonly password: string;
  /** The repeated password of the web form; the API has none. */
  readonly password2?: string;
}

/** Creates the user; returns the spec's error text for the first failed check, or null. */
export async function signUp(db: Db, form: SignUp): Promise<string | null> {
  const { username, email, password, password2 } = form;
  if (username === "") return "You have to enter a username";
  if (email === "" || !email.includes("@")) return "You have to enter a valid email address";
  if (password === "") return "You have to enter a password";
  if (password2 !== undefined && password !== password2) return "The two passwords do not match";
  if (RESERVED_USERNAMES.has(username.toLowerCase())) return TAKEN;
  // Checked before hashing so a repeated sign-up costs no argon2 work; the
  // unique index still decides races.
  if ((await userByName(db, username)) !== null) return TAKEN;
  const created = await createUser(db, { username, email, pwHash: await hashPassword(password) });
  return created === null ? TAKEN : null;
}
