// argon2id hashing, that it runs off the event loop, and one at a time.
import { expect, test } from "bun:test";
import { argon2Running, hashPassword, Slots, verifyPassword } from "../../src/accounts/passwords/hashing";

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

test("a burst of hashes and checks runs one at a time, and all finish", async () => {
  let most = 0;
  const sampler = setInterval(() => {
    most = Math.max(most, argon2Running());
  }, 1);
  const stored = await hashPassword("burst");
  const [hashes, checks] = await Promise.all([
    Promise.all(Array.from({ length: 6 }, (_, i) => hashPassword(`burst${i}`))),
    Promise.all(Array.from({ length: 6 }, (_, i) => verifyPassword(stored, i % 2 ? "burst" : "wrong"))),
  ]);
  clearInterval(sampler);
  expect(new Set(hashes).size).toBe(6);
  expect(checks).toEqual([false, true, false, true, false, true]);
  expect(most).toBe(1);
  expect(argon2Running()).toBe(0);
});

test("slots run tasks in arrival order, never more than the limit, and free a slot when a task fails", async () => {
  const slots = new Slots(2);
  let running = 0;
  let most = 0;
  const started: number[] = [];
  const task = (i: number) => async () => {
    started.push(i);
    running++;
    most = Math.max(most, running);
    await Bun.sleep(5);
    running--;
    if (i === 1) throw new Error("task 1 fails");
    return i;
  };
  const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => slots.run(task(i))));
  expect(most).toBe(2);
  expect(started).toEqual([0, 1, 2, 3, 4, 5]);
  expect(results.map((r) => r.status)).toEqual([
    "fulfilled",
    "rejected",
    "fulfilled",
    "fulfilled",
    "fulfilled",
    "fulfilled",
  ]);
  expect(slots.active()).toBe(0);
});
