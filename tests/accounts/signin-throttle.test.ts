// Sign-in throttling: attempts slow down, then lock for a while; the lock
// ends, and a success clears the count. Counted in the database, on both drivers.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { SignInThrottle } from "../../src/accounts/throttle";
import { rows } from "../../src/database/queries";
import { startTestServer, type TestServer } from "../support/server";
import { errorOf, webClient } from "../support/web-client";

const clock = () => {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
};

// The same SQL on both databases: PostgreSQL for replicas, PGlite embedded.
describe.each(["postgres", "pglite"] as const)("SignInThrottle on %s", (driver) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(driver);
  });
  afterAll(() => server.stop());
  const throttle = (now: () => number) => new SignInThrottle(server.server.database.db, now);

  test("the first attempts cost nothing, later ones slow down, the eleventh finds the username locked", async () => {
    const c = clock();
    const bob = throttle(c.now);
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      const verdict = await bob.attempt("bob", "10.0.0.1");
      delays.push("delayMs" in verdict ? verdict.delayMs : -1);
    }
    expect(delays).toEqual([0, 0, 0, 250, 500, 750, 1000, 1250, 1500, 1750]);
    expect(await bob.attempt("bob", "10.0.0.2")).toEqual({ retryAfterS: 300 });
    // However the name is cased, it is the same count.
    expect(await bob.attempt("BOB", "10.0.0.2")).toEqual({ retryAfterS: 300 });
    // Other users from the same address are not locked by one username's lock.
    expect(await bob.attempt("alice", "10.0.0.3")).toEqual({ delayMs: 0 });
  });

  test("a lock ends after five minutes; then one attempt at a time until the window ends", async () => {
    const c = clock();
    const carol = throttle(c.now);
    for (let i = 0; i < 10; i++) await carol.attempt("carol", "10.0.1.1");
    c.advance(299_000);
    expect(await carol.attempt("carol", "10.0.1.1")).toEqual({ retryAfterS: 1 });
    c.advance(1_000);
    expect("delayMs" in (await carol.attempt("carol", "10.0.1.1"))).toBe(true);
    expect(await carol.attempt("carol", "10.0.1.1")).toEqual({ retryAfterS: 300 });
    c.advance(16 * 60_000);
    expect(await carol.attempt("carol", "10.0.1.1")).toEqual({ delayMs: 0 });
  });

  test("one address guessing many usernames is locked after 50 attempts", async () => {
    const t = throttle(clock().now);
    for (let i = 0; i < 50; i++) await t.attempt(`user${i}`, "10.0.0.9");
    expect("retryAfterS" in (await t.attempt("fresh", "10.0.0.9"))).toBe(true);
    expect(await t.attempt("fresh", "10.0.0.8")).toEqual({ delayMs: 0 });
  });

  test("a success clears the username's count and gives the address its attempt back", async () => {
    const t = throttle(clock().now);
    for (let i = 0; i < 6; i++) await t.attempt("dave", "10.0.2.1");
    await t.succeeded("dave", "10.0.2.1");
    expect(await t.attempt("dave", "10.0.2.2")).toEqual({ delayMs: 0 });
    expect(await t.attempt("erin", "10.0.2.1")).toEqual({ delayMs: 750 });
  });

  test("40 attempts at once are counted as 40 one after another: ten go ahead", async () => {
    const t = throttle(clock().now);
    const verdicts = await Promise.all(Array.from({ length: 40 }, () => t.attempt("frank", "10.0.3.1")));
    expect(verdicts.filter((v) => "delayMs" in v)).toHaveLength(10);
  });

  test("rows whose window and lock have passed are purged", async () => {
    const c = clock();
    const t = throttle(c.now);
    for (let i = 0; i < 10; i++) await t.attempt("gina", "10.0.4.1");
    const keys = () =>
      rows<{ key: string }>(
        server.server.database.db,
        sql`select key from signin_attempts where key in ('u:gina', 'a:10.0.4.1')`,
      );
    expect(await keys()).toHaveLength(2);
    c.advance(60 * 60_000);
    await t.attempt("someone-else", "10.0.4.2");
    expect(await keys()).toEqual([]);
  });
});

describe("sign-in throttling over HTTP", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("postgres");
    await webClient(server.web).register("target");
  });
  afterAll(() => server.stop());

  test("ten wrong passwords, then 429 with Retry-After and a clear message", async () => {
    const c = webClient(server.web);
    for (let i = 0; i < 10; i++) {
      expect(errorOf((await c.post("/login", { username: "target", password: "wrong" })).body)).toBe(
        "Invalid password",
      );
    }
    const locked = await c.post("/login", { username: "target", password: "secret" });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(locked.body).toContain("Too many failed sign-ins. Try again in");
  }, 60_000);
});

describe("sign-in timing", () => {
  let server: TestServer;
  beforeAll(async () => {
    // Each attempt from its own address, so no throttle delay mixes into the timings.
    server = await startTestServer("postgres", { TRUSTED_PROXIES: "127.0.0.1/32" });
    for (let i = 0; i < 3; i++) await webClient(server.web).register(`known${i}`);
  });
  afterAll(() => server.stop());

  const timed = async (username: string, address: string) => {
    const started = performance.now();
    const res = await webClient(server.web).post(
      "/login",
      { username, password: "not-the-password" },
      { "x-forwarded-for": address },
    );
    const ms = performance.now() - started;
    return { ms, error: errorOf(res.body) };
  };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

  test("an unknown username takes about as long as a known one with a wrong password", async () => {
    const unknown: number[] = [];
    const known: number[] = [];
    // Interleaved, so a busy moment of the machine slows both alike.
    for (let i = 0; i < 6; i++) {
      const u = await timed(`nobody${i}`, `10.9.0.${i}`);
      const k = await timed(`known${i % 3}`, `10.9.1.${i}`);
      expect([u.error, k.error]).toEqual(["Invalid username", "Invalid password"]);
      unknown.push(u.ms);
      known.push(k.ms);
    }
    // Without a hash check the unknown name answers several times faster.
    expect(median(unknown)).toBeGreaterThan(0.5 * median(known));
  }, 60_000);
});
