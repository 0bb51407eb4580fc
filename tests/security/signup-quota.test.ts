// Issue 31, attack 12: 1,500 anonymous sign-ups from one address in 17 s,
// none refused. Sign-ups are now limited per client address and hour
// (SIGNUP_LIMIT_PER_HOUR), counted in the database so replicas share the
// count, on the API and the web form together; over the limit a sign-up
// answers 429 with Retry-After and a message. Requests with the simulator's
// credential are never counted: it registers thousands of users from one
// address.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config/settings";
import { freshDatabase } from "../support/postgres";
import { SIMULATOR_AUTH, startTestServer, type TestServer } from "../support/server";
import { errorOf, webClient } from "../support/web-client";

const LIMIT = 3;
const REFUSED = "Too many sign-ups from your address. Try again in 60 minutes.";
// Two replicas on one database; the peer is trusted, so X-Forwarded-For names each client.
const servers: TestServer[] = [];
beforeAll(async () => {
  const env = {
    DATABASE_URL: await freshDatabase(),
    SIGNUP_LIMIT_PER_HOUR: String(LIMIT),
    RATE_LIMIT_PER_SECOND: "0",
    TRUSTED_PROXIES: "127.0.0.1/32",
  };
  for (let i = 0; i < 2; i++) servers.push(await startTestServer("postgres", env));
});
afterAll(async () => {
  for (const server of servers) await server.stop();
});

let next = 0;
const fresh = () => `newcomer${next++}`;
/** An anonymous API sign-up from `client`, on replica `i`. */
const apiSignUp = (client: string, username = fresh(), i = 0, auth: string | null = null) =>
  fetch(`${servers[i]?.api}/register`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-forwarded-for": client,
      ...(auth === null ? {} : { authorization: auth }),
    },
    body: JSON.stringify({ username, email: `${username}@example.com`, pwd: "secret" }),
  });
describe("one address", () => {
  test("signs up LIMIT users an hour, spread over the replicas; then 429 with Retry-After and a message", async () => {
    for (let i = 0; i < LIMIT; i++) expect((await apiSignUp("10.7.0.1", fresh(), i % 2)).status).toBe(204);
    const refused = await apiSignUp("10.7.0.1", fresh(), 1);
    expect(refused.status).toBe(429);
    expect(await refused.json()).toEqual({ status: 429, error_msg: REFUSED });
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(3500);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    // The web form shares the count.
    const page = await webClient(servers[0]?.web as string).post(
      "/register",
      { username: fresh(), email: "w@example.com", password: "secret", password2: "secret" },
      { "x-forwarded-for": "10.7.0.1" },
    );
    expect(page.status).toBe(429);
    expect(page.body).toContain(REFUSED);
    expect(page.headers.get("retry-after")).not.toBeNull();
  });

  test("sign-ups that fail their checks do not use up the quota, even at its last place", async () => {
    await apiSignUp("10.7.0.2", "taken");
    for (let i = 2; i < LIMIT; i++) expect((await apiSignUp("10.7.0.2")).status).toBe(204);
    for (let i = 0; i < 5; i++) expect((await apiSignUp("10.7.0.2", "taken")).status).toBe(400);
    const form = webClient(servers[1]?.web as string);
    for (let i = 0; i < 5; i++) {
      const page = await form.post(
        "/register",
        { username: fresh(), email: "broken", password: "secret", password2: "secret" },
        { "x-forwarded-for": "10.7.0.2" },
      );
      expect(errorOf(page.body)).toBe("You have to enter a valid email address");
    }
    expect((await apiSignUp("10.7.0.2")).status).toBe(204);
    expect((await apiSignUp("10.7.0.2")).status).toBe(429);
  });

  test("sign-ups sent at once are counted as sequential ones: LIMIT of 12 get through", async () => {
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => apiSignUp("10.7.0.3", fresh(), i % 2)));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 204)).toHaveLength(LIMIT);
    expect(statuses.filter((s) => s === 429)).toHaveLength(12 - LIMIT);
  });
});

test("other addresses keep their own quota", async () => {
  for (let i = 0; i < LIMIT; i++) await apiSignUp("10.7.1.1");
  expect((await apiSignUp("10.7.1.1")).status).toBe(429);
  expect((await apiSignUp("10.7.1.2")).status).toBe(204);
});

test("the simulator, with its credential, is never counted", async () => {
  for (let i = 0; i < LIMIT * 3; i++)
    expect((await apiSignUp("10.7.2.1", fresh(), i % 2, SIMULATOR_AUTH)).status).toBe(204);
  expect((await apiSignUp("10.7.2.1")).status).toBe(204);
  // A wrong credential is no credential.
  for (let i = 1; i < LIMIT; i++) await apiSignUp("10.7.2.1", fresh(), 0, "Basic d3Jvbmc6d3Jvbmc=");
  expect((await apiSignUp("10.7.2.1", fresh(), 0, "Basic d3Jvbmc6d3Jvbmc=")).status).toBe(429);
});

test("SIGNUP_LIMIT_PER_HOUR: 30 by default, 0 turns it off, a bad value names the variable", () => {
  expect(loadConfig({}).security.signupLimitPerHour).toBe(30);
  expect(loadConfig({ SIGNUP_LIMIT_PER_HOUR: "0" }).security.signupLimitPerHour).toBe(0);
  expect(() => loadConfig({ SIGNUP_LIMIT_PER_HOUR: "many" })).toThrow(/SIGNUP_LIMIT_PER_HOUR/);
});
