// Web sessions: a random id that the cookie carries, and a row in the
// database found by the id's SHA-256 (the id itself is never stored). A
// sign-in starts a new session; a sign-out deletes the row, so copies of the
// cookie stop working too.
import type { Db } from "../database/open";
import { createSession, deleteSession, purgeExpiredSessions, type SessionUser, sessionUser } from "../store/sessions";

/** How long a sign-in lasts. */
export const SESSION_MAX_AGE_S = 30 * 24 * 3600;

// Each sign-in creates one session and deletes up to this many expired ones.
const PURGE_BATCH = 100;

/** A new session id: 256 random bits, base64url. */
function newSessionId(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
}

/**
 * The session id a verified cookie payload carries, or null. Payloads of the
 * earlier format (`<user id>:<expiry>`) carry none: their holders are simply
 * not signed in.
 */
export function sessionIdOf(payload: string | null): string | null {
  return payload !== null && /^[A-Za-z0-9_-]{43}$/.test(payload) ? payload : null;
}

/** What the sessions table keeps of an id: its SHA-256, base64url. */
export function sessionIdHash(sessionId: string): string {
  return new Bun.CryptoHasher("sha256").update(sessionId).digest("base64url");
}

/** Starts a session for the user at `now` (unix seconds); returns its id, for the cookie. */
export async function startSession(db: Db, userId: number, now: number): Promise<string> {
  const id = newSessionId();
  await Promise.all([
    createSession(db, { idHash: sessionIdHash(id), userId, createdAt: now, expiresAt: now + SESSION_MAX_AGE_S }),
    purgeExpiredSessions(db, now, PURGE_BATCH),
  ]);
  return id;
}

/** The user of a live session, or null when the id is unknown, ended or expired. */
export function sessionOwner(db: Db, sessionId: string, now: number): Promise<SessionUser | null> {
  return sessionUser(db, sessionIdHash(sessionId), now);
}

/** Ends the session. */
export async function endSession(db: Db, sessionId: string): Promise<void> {
  await deleteSession(db, sessionIdHash(sessionId));
}
