// Sessions live in the database: signing out ends a session on every replica,
// copies of its cookie included; each sign-in gets a new random id; cookies
// of the earlier `<user id>:<expiry>` format sign nobody in and never fail.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { sessionIdHash } from "../../src/accounts/sessions";
import { rows } from "../../src/database/queries";
import { CookieSigner, SESSION_COOKIE } from "../../src/http/web/cookies";
import { startTestServer, type TestServer } from "../support/server";
import {
  type ServersOnOneDatabase,
  SHARED_SESSION_SECRET,
  startServersOnOneDatabase,
} from "../support/servers-on-one-database";
import { titleOf, webClient } from "../support/web-client";

let replicas: ServersOnOneDatabase;
let local: TestServer;
// Two servers on one database: one in this process, one `minitwit serve` process.
let servers: [string, string];
const signer = new CookieSigner(SHARED_SESSION_SECRET);

beforeAll(async () => {
  replicas = await startServersOnOneDatabase(1);
  local = await startTestServer("postgres", {
    DATABASE_URL: replicas.databaseUrl,
    SESSION_SECRET: SHARED_SESSION_SECRET,
  });
  servers = [local.web, replicas.web[0] as string];
  for (const name of ["bob", "carol", "dave"]) await webClient(local.web).register(name);
}, 60_000);
afterAll(async () => {
  await local.stop();
  await replicas.stop();
});

/** A client holding just this session cookie, as a thief with a copy would. */
function withCookie(origin: string, value: string) {
  const client = webClient(origin);
  client.jar.set(SESSION_COOKIE, value);
  return client;
}

const isSignedIn = async (origin: string, cookie: string) =>
  titleOf((await withCookie(origin, cookie).get("/")).body) === "My Timeline | MiniTwit";

const sessionRows = () =>
  rows<{ id_hash: string; user_id: number }>(local.server.database.db, sql`select id_hash, user_id from sessions`);

describe("signing out", () => {
  test("a copied session cookie stops working at sign-out, on both servers at once", async () => {
    const owner = webClient(servers[0]);
    await owner.login("bob");
    const copy = owner.jar.get(SESSION_COOKIE) as string;
    expect(await isSignedIn(servers[0], copy)).toBe(true);
    expect(await isSignedIn(servers[1], copy)).toBe(true);

    expect(await owner.get("/logout")).toMatchObject({ status: 302, location: "/public" });
    expect(await isSignedIn(servers[0], copy)).toBe(false);
    expect(await isSignedIn(servers[1], copy)).toBe(false);
  });

  test("signing out on one server ends the session signed in on the other", async () => {
    const owner = webClient(servers[1]);
    await owner.login("carol");
    const copy = owner.jar.get(SESSION_COOKIE) as string;
    await withCookie(servers[0], copy).get("/logout");
    expect(await isSignedIn(servers[1], copy)).toBe(false);
  });
});

describe("session ids", () => {
  test("each sign-in gets its own random id, stored only as its SHA-256; an id planted before sign-in never signs in", async () => {
    const planted = signer.sign(Buffer.alloc(32, 7).toString("base64url"));
    const first = withCookie(servers[0], planted);
    await first.login("dave");
    const second = webClient(servers[1]);
    await second.login("dave");
    const [a, b] = [first.jar.get(SESSION_COOKIE) as string, second.jar.get(SESSION_COOKIE) as string];
    expect(new Set([a, b, planted]).size).toBe(3);
    expect(await isSignedIn(servers[0], planted)).toBe(false);

    const ids = [a, b].map((cookie) => signer.verify(cookie) as string);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = (await sessionRows()).map((r) => r.id_hash);
    expect(stored).toEqual(expect.arrayContaining(ids.map(sessionIdHash)));
    for (const id of ids) expect(stored).not.toContain(id);
  });

  test("an expired session does not sign in, and a sign-in purges it", async () => {
    const id = Buffer.alloc(32, 9).toString("base64url");
    const db = local.server.database.db;
    await db.execute(sql`insert into sessions (id_hash, user_id, created_at, expires_at)
      select ${sessionIdHash(id)}, user_id, 1, 2 from users where username = 'bob'`);
    expect(await isSignedIn(servers[1], signer.sign(id))).toBe(false);
    await webClient(servers[1]).login("bob");
    expect((await sessionRows()).map((r) => r.id_hash)).not.toContain(sessionIdHash(id));
  });
});

describe("cookies of the earlier format", () => {
  const expiry = Math.floor(Date.now() / 1000) + 3600;
  const cases = [
    ["a real user's id", 1],
    ["an id above 2^31", 2 ** 31],
    ["an id above 2^32", 2 ** 32],
    ["the largest ten-digit id", 9_999_999_999],
  ] as const;

  test.each(cases)("%s signs nobody in and never answers 500", async (_, userId) => {
    const cookie = signer.sign(`${userId}:${expiry}`);
    for (const origin of servers) {
      const client = withCookie(origin, cookie);
      expect(await client.get("/")).toMatchObject({ status: 302, location: "/public" });
      expect((await client.get("/public")).status).toBe(200);
      expect((await client.get("/bob")).status).toBe(200);
      expect((await client.post("/add_message", { text: "hi" })).status).toBe(401);
      expect((await client.get("/login")).status).toBe(200);
      expect((await client.get("/logout")).status).toBe(302);
    }
  });
});
