// argon2id hashing, and that it runs off the event loop.
import { expect, test } from "bun:test";
import { hashPassword, verifyPassword } from "../src/passwords";

test("hashes are argon2id, salted, and verify only the right password", async () => {
  const a = await hashPassword("correct horse");
  const b = await hashPassword("correct horse");
  expect(a).toStartWith("$argon2id$");
  expect(a).not.toBe(b);
  expect(await verifyPassword(a, "correct horse")).toBe(true);
  expect(await verifyPassword(a, "wrong")).toBe(false);
  expect(await verifyPassword("not a hash", "x")).toBe(false);
});

test("hashing does not block the event loop", async () => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const started = performance.now();
  await Promise.all(Array.from({ length: 8 }, (_, i) => hashPassword(`pw${i}`)));
  const elapsed = performance.now() - started;
  clearInterval(timer);
  // A blocking hash would starve the timer for the whole run.
  expect(ticks).toBeGreaterThan(elapsed / 10);
});
