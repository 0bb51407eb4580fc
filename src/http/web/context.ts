// What every page handler needs: the signed-in viewer, flash messages that
// live for exactly one redirect, and the page frame's stylesheet URL.
import { html } from "@elysiajs/html";
import type { Cookie } from "elysia";
import { ErrorPage } from "../../../views/error";
import type { Viewer } from "../../../views/layout";
import { endSession, SESSION_MAX_AGE_S, sessionIdOf, sessionOwner, startSession } from "../../accounts/sessions";
import { type AppDeps, unixNow } from "../deps";
import { CookieSigner, FLASH_COOKIE, SESSION_COOKIE } from "./cookies";

type Jar = Record<string, Cookie<unknown>>;

/**
 * The `html(page)` response helper for page handlers. Handlers wrap their
 * page themselves: the plugin's automatic detection trims and inspects every
 * string response (10 kB for a timeline) to guess whether it is HTML, and
 * the views already begin with their doctype.
 */
export const htmlResponses = () =>
  html({ autoDetect: false, autoDoctype: false, contentType: "text/html; charset=utf-8" });

export interface WebContext {
  readonly stylesheet: string;
  viewer(cookie: Jar): Promise<Viewer | null>;
  /** Starts a new session (a new id, whatever the cookie held before). */
  signIn(cookie: Jar, userId: number, secure: boolean): Promise<void>;
  /** Ends the session in the database, so copies of the cookie stop working too. */
  signOut(cookie: Jar): Promise<void>;
  /** Adds a message to show on the next page. */
  flash(cookie: Jar, message: string, secure: boolean): void;
  /** The messages to show on this page; they are gone after it. */
  takeFlashes(cookie: Jar): string[];
  errorPage(status: number, message: string): string;
}

export function webContext(deps: AppDeps, secret: string, stylesheet: string): WebContext {
  const signer = new CookieSigner(secret);
  const base = { httpOnly: true, sameSite: "lax", path: "/" } as const;
  const { db } = deps.database;
  const sessionId = (cookie: Jar) => sessionIdOf(signer.verify(cookie[SESSION_COOKIE]?.value as string | undefined));

  const readFlashes = (cookie: Jar): string[] => {
    const payload = signer.verify(cookie[FLASH_COOKIE]?.value as string | undefined);
    if (payload === null) return [];
    try {
      const list = JSON.parse(payload);
      return Array.isArray(list) ? list.filter((m): m is string => typeof m === "string") : [];
    } catch {
      return [];
    }
  };

  return {
    stylesheet,
    async viewer(cookie) {
      const id = sessionId(cookie);
      return id === null ? null : sessionOwner(db, id, unixNow(deps));
    },
    async signIn(cookie, userId, secure) {
      const id = await startSession(db, userId, unixNow(deps));
      cookie[SESSION_COOKIE]?.set({ ...base, secure, value: signer.sign(id), maxAge: SESSION_MAX_AGE_S });
    },
    async signOut(cookie) {
      const id = sessionId(cookie);
      if (id !== null) await endSession(db, id);
      cookie[SESSION_COOKIE]?.remove();
    },
    flash(cookie, message, secure) {
      const value = signer.sign(JSON.stringify([...readFlashes(cookie), message].slice(-5)));
      cookie[FLASH_COOKIE]?.set({ ...base, secure, value });
    },
    takeFlashes(cookie) {
      const flashes = readFlashes(cookie);
      if (flashes.length > 0) cookie[FLASH_COOKIE]?.remove();
      return flashes;
    },
    // The views have no async components, so rendering yields a string.
    errorPage: (status, message) => ErrorPage({ status, message, stylesheet }) as string,
  };
}
