// Sign-in throttling: failures slow down, then lock for a while; the lock
// ends, and a success clears the count.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SignInThrottle } from "../src/http/signin-throttle";
import { startTestServer, type TestServer } from "./support/server";
import { errorOf, webClient } from "./support/web-client";

describe("SignInThrottle", () => {
  const clock = () => {
    let now = 1_000_000;
    return { now: () => now, advance: (ms: number) => (now += ms) };
  };

  test("the first failures cost nothing, later ones slow down, the tenth locks the username", () => {
    const c = clock();
    const throttle = new SignInThrottle(c.now);
    const delays: number[] = [];
    for (let i = 0; i < 9; i++) {
      const verdict = throttle.check("bob", "10.0.0.1");
      delays.push("delayMs" in verdict ? verdict.delayMs : -1);
      throttle.failed("bob", "10.0.0.1");
    }
    expect(delays).toEqual([0, 0, 0, 250, 500, 750, 1000, 1250, 1500]);
    throttle.failed("bob", "10.0.0.1");
    expect(throttle.check("bob", "10.0.0.2")).toEqual({ retryAfterS: 300 });
    // Other users from the same address are not locked by one username's lock.
    expect(throttle.check("alice", "10.0.0.3")).toEqual({ delayMs: 0 });
  });

  test("a lock ends after five minutes at most", () => {
    const c = clock();
    const throttle = new SignInThrottle(c.now);
    for (let i = 0; i < 10; i++) throttle.failed("bob", "10.0.0.1");
    c.advance(299_000);
    expect(throttle.check("bob", "10.0.0.1")).toEqual({ retryAfterS: 1 });
    c.advance(16 * 60_000);
    expect(throttle.check("bob", "10.0.0.1")).toEqual({ delayMs: 0 });
  });

  test("one address guessing many usernames is locked after 50 failures", () => {
    const throttle = new SignInThrottle(clock().now);
    for (let i = 0; i < 50; i++) throttle.failed(`user${i}`, "10.0.0.9");
    expect("retryAfterS" in throttle.check("fresh", "10.0.0.9")).toBe(true);
    expect(throttle.check("fresh", "10.0.0.8")).toEqual({ delayMs: 0 });
  });

  test("a success clears the username's failures", () => {
    const throttle = new SignInThrottle(clock().now);
    for (let i = 0; i < 6; i++) throttle.failed("bob", "10.0.0.1");
    throttle.succeeded("bob");
    expect(throttle.check("bob", "10.0.0.2")).toEqual({ delayMs: 0 });
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
