// Legacy password hashes: verifyPassword accepts what legacy MiniTwit
// databases hold, and needsRehash marks them for an argon2id upgrade.
// The werkzeug hashes below were made by werkzeug's own
// generate_password_hash (pbkdf2 methods, 8-character salts); the unsalted
// one is Python's hashlib.sha256(...).hexdigest().
import { expect, test } from "bun:test";
import { hashPassword, needsRehash, verifyPassword } from "../../src/accounts/passwords/hashing";
import { legacyHashKind, WERKZEUG_DEFAULT_ITERATIONS } from "../../src/accounts/passwords/werkzeug";

const LEGACY = [
  {
    format: "werkzeug pbkdf2:sha256 with 50,000 iterations (werkzeug 0.12 to 0.14)",
    stored: "pbkdf2:sha256:50000$Hhm0KZZh$b049c7eae756b97521fb2c1c51b72d56f34ce128efa57790eb60bd1e33d2b82d",
    password: "old-secret-1",
  },
  {
    format: "werkzeug pbkdf2:sha256 without an iteration count (that era's default)",
    // Made with pbkdf2:sha256:150000, then the count removed from the method.
    stored: "pbkdf2:sha256$ubOZ87B0$05c4c29c6df8ee381582f3c73e4f69faa3bcad62d8bfea8c935c13d76ef4f90f",
    password: "pässwörd ünïcode ✓",
  },
  {
    format: "werkzeug pbkdf2:sha1",
    stored: "pbkdf2:sha1:1000$Baxudwde$78fc92750f5dc1c9ab6ac358b6b534ec3e369f3a",
    password: "sha1 era",
  },
  {
    format: "werkzeug pbkdf2:sha512",
    stored:
      "pbkdf2:sha512:2000$m8Y4DeGy$3f49d438a2c299e27ec30cd729bd08ca36f50d612fb3ffdecabd6615c990b7d3f78d6ca00f00ec205286087373a39a5187b91fa5c3447827209303cb111e5ec3",
    password: "long one",
  },
  {
    format: "unsalted hex SHA-256",
    stored: "31b6e0279206c13e61f73b1402439814899d505e3b832a33d12665a95ed8f0fc",
    password: "plain old",
  },
  {
    format: "unsalted hex SHA-256 in upper case",
    stored: "31B6E0279206C13E61F73B1402439814899D505E3B832A33D12665A95ED8F0FC",
    password: "plain old",
  },
];

test.each(LEGACY)("$format: the right password verifies, others do not", async ({ stored, password }) => {
  expect(legacyHashKind(stored)).not.toBeNull();
  expect(await verifyPassword(stored, password)).toBe(true);
  expect(await verifyPassword(stored, `${password}x`)).toBe(false);
  expect(await verifyPassword(stored, "")).toBe(false);
  expect(needsRehash(stored)).toBe(true);
});

test("a hash without an iteration count is verified with werkzeug's default of the original's era", async () => {
  expect(WERKZEUG_DEFAULT_ITERATIONS).toBe(150_000);
  const explicit = "pbkdf2:sha256:150000$ubOZ87B0$05c4c29c6df8ee381582f3c73e4f69faa3bcad62d8bfea8c935c13d76ef4f90f";
  const otherCount = explicit.replace(":150000$", ":150001$");
  expect(await verifyPassword(explicit, "pässwörd ünïcode ✓")).toBe(true);
  expect(await verifyPassword(otherCount, "pässwörd ünïcode ✓")).toBe(false);
});

test.each([
  ["zero iterations", "pbkdf2:sha256:0$Hhm0KZZh$b049c7eae756b97521fb2c1c51b72d56f34ce128efa57790eb60bd1e33d2b82d"],
  [
    "absurd iterations",
    "pbkdf2:sha256:99999999999$salt$b049c7eae756b97521fb2c1c51b72d56f34ce128efa57790eb60bd1e33d2b82d",
  ],
  ["a truncated digest", "pbkdf2:sha256:50000$Hhm0KZZh$b049c7eae756b97521fb2c1c51b72d56f34ce128efa57790eb60bd1e33d2b8"],
  [
    "an odd-length digest",
    "pbkdf2:sha256:50000$Hhm0KZZh$b049c7eae756b97521fb2c1c51b72d56f34ce128efa57790eb60bd1e33d2b82",
  ],
  ["an unknown digest", "pbkdf2:md5:1000$salt$0123456789abcdef0123456789abcdef"],
  ["no salt", "pbkdf2:sha256:50000$$b049c7eae756b97521fb2c1c51b72d56f34ce128efa57790eb60bd1e33d2b82d"],
  ["63 hex digits", "31b6e0279206c13e61f73b1402439814899d505e3b832a33d12665a95ed8f0f"],
  ["plain text", "old-secret-1"],
])("a stored value with %s never verifies and never throws", async (_, stored) => {
  expect(await verifyPassword(stored, "old-secret-1")).toBe(false);
  expect(await verifyPassword(stored, "")).toBe(false);
});

test("argon2id hashes still verify and need no rehash", async () => {
  const stored = await hashPassword("fresh");
  expect(legacyHashKind(stored)).toBeNull();
  expect(await verifyPassword(stored, "fresh")).toBe(true);
  expect(await verifyPassword(stored, "stale")).toBe(false);
  expect(needsRehash(stored)).toBe(false);
});
