// Guesses sent together, and guesses spread over replicas, are counted as
// guesses sent one after another to one server: the tenth locks the account.
// "Checked" means the password was verified: the answer says "Invalid
// password" (or signs in), where a throttled attempt answers 429.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../support/server";
import { type ServersOnOneDatabase, startServersOnOneDatabase } from "../support/servers-on-one-database";
import { errorOf, type WebResponse, webClient } from "../support/web-client";

const guess = (origin: string, username: string, password: string) =>
  webClient(origin).post("/login", { username, password });

/** How many answers checked the password, signed in, or were throttled. */
function tally(answers: readonly WebResponse[]) {
  return {
    checked: answers.filter((a) => errorOf(a.body) === "Invalid password").length,
    signedIn: answers.filter((a) => a.status === 302).length,
    throttled: answers.filter((a) => a.status === 429).length,
  };
}

describe("parallel guesses on one server", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("postgres");
    await webClient(server.web).register("target");
  });
  afterAll(() => server.stop());

  test("40 wrong passwords at once: ten are checked; then 29 wrong and the right one at once: none signs in", async () => {
    const burst = await Promise.all(Array.from({ length: 40 }, (_, i) => guess(server.web, "target", `wrong${i}`)));
    expect(tally(burst)).toEqual({ checked: 10, signedIn: 0, throttled: 30 });

    const passwords = [...Array.from({ length: 29 }, (_, i) => `again${i}`), "secret"];
    const second = await Promise.all(passwords.map((password) => guess(server.web, "target", password)));
    expect(tally(second)).toEqual({ checked: 0, signedIn: 0, throttled: 30 });
  }, 60_000);
});

describe("guesses spread over three replicas on one database", () => {
  let replicas: ServersOnOneDatabase;
  beforeAll(async () => {
    replicas = await startServersOnOneDatabase(3);
    await webClient(replicas.web[0] as string).register("shared");
    await webClient(replicas.web[0] as string).register("burst");
  }, 60_000);
  afterAll(() => replicas.stop());
  const replica = (i: number) => replicas.web[i % replicas.web.length] as string;

  test("ten wrong passwords, one replica after another, lock the account on every replica", async () => {
    for (let i = 0; i < 10; i++) {
      expect(errorOf((await guess(replica(i), "shared", `wrong${i}`)).body)).toBe("Invalid password");
    }
    for (let i = 0; i < 3; i++) {
      const right = await guess(replica(i), "shared", "secret");
      expect(right.status).toBe(429);
      expect(Number(right.headers.get("retry-after"))).toBeGreaterThan(0);
    }
  }, 60_000);

  test("30 wrong passwords at once over three replicas: ten are checked", async () => {
    const burst = await Promise.all(Array.from({ length: 30 }, (_, i) => guess(replica(i), "burst", `wrong${i}`)));
    expect(tally(burst)).toEqual({ checked: 10, signedIn: 0, throttled: 20 });
  }, 60_000);
});
