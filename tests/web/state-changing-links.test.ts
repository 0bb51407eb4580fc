// Issue 31, attack 10: the GET links that change state (follow, unfollow,
// sign out) acted on a request a sibling subdomain's page made (an `<img>`
// sends `Sec-Fetch-Site: same-site` with the SameSite=Lax cookie). They act
// only when the browser says the request came from MiniTwit's own pages or
// from the user (`same-origin`, `none`), or when it sends no Fetch Metadata at
// all (scripts and the course's tests follow these links with a plain GET).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../support/server";
import { webClient } from "../support/web-client";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer("postgres", { RATE_LIMIT_PER_SECOND: "0" });
  const setup = webClient(server.web);
  for (const name of ["dora", "eve"]) await setup.register(name);
});
afterAll(() => server.stop());

const signedIn = async (name: string) => {
  const c = webClient(server.web);
  await c.login(name);
  return c;
};
const follows = async (c: ReturnType<typeof webClient>) =>
  (await c.get("/dora")).body.includes("You are currently following this user.");
const signedInStill = async (c: ReturnType<typeof webClient>) => (await c.get("/")).status === 200;

const REFUSED: [string, Record<string, string>, string][] = [
  [
    "Sec-Fetch-Site: same-site",
    { "sec-fetch-site": "same-site" },
    "This link works only from MiniTwit&#39;s own pages",
  ],
  ["Sec-Fetch-Site: cross-site", { "sec-fetch-site": "cross-site" }, "Cross-site requests are not allowed"],
];
const ALLOWED: [string, Record<string, string>][] = [
  ["Sec-Fetch-Site: same-origin", { "sec-fetch-site": "same-origin" }],
  ["Sec-Fetch-Site: none (typed or bookmarked)", { "sec-fetch-site": "none" }],
  ["no Fetch Metadata (a script, the course's tests)", {}],
];

describe.each(REFUSED)("a GET with %s", (_, headers, message) => {
  test("does not follow or unfollow", async () => {
    const c = await signedIn("eve");
    const res = await c.get("/dora/follow", headers);
    expect(res.status).toBe(403);
    expect(res.body).toContain(message);
    expect(await follows(c)).toBe(false);
    await c.get("/dora/follow");
    expect((await c.get("/dora/unfollow", headers)).status).toBe(403);
    expect(await follows(c)).toBe(true);
    await c.get("/dora/unfollow");
  });

  test("does not sign out", async () => {
    const c = await signedIn("eve");
    expect((await c.get("/logout", headers)).status).toBe(403);
    expect(await signedInStill(c)).toBe(true);
  });
});

describe.each(ALLOWED)("a GET with %s", (_, headers) => {
  test("follows, unfollows and signs out", async () => {
    const c = await signedIn("eve");
    expect((await c.get("/dora/follow", headers)).status).toBe(302);
    expect(await follows(c)).toBe(true);
    expect((await c.get("/dora/unfollow", headers)).status).toBe(302);
    expect(await follows(c)).toBe(false);
    expect((await c.get("/logout", headers)).location).toBe("/public");
    expect(await signedInStill(c)).toBe(false);
  });
});

test("pages stay reachable from other sites", async () => {
  const c = await signedIn("eve");
  for (const path of ["/", "/public", "/dora"]) {
    expect((await c.get(path, { "sec-fetch-site": "same-site" })).status).toBe(200);
  }
});
