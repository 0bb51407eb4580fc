// The views' text helpers, as pure functions.
import { expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { esc, formatDate, gravatarUrl, userPath } from "../../views/format";

const md5 = (text: string) => createHash("md5").update(text).digest("hex");

test.each([
  ["alice@example.com", "alice@example.com"],
  [" Alice@Example.COM ", "alice@example.com"],
  ["bob@example.com", "bob@example.com"],
])("the Gravatar of %p is the md5 of %p, on the first call and every later one", (email, normalized) => {
  const expected = `https://www.gravatar.com/avatar/${md5(normalized)}?d=identicon&s=48`;
  expect(gravatarUrl(email)).toBe(expected);
  expect(gravatarUrl(email)).toBe(expected);
  expect(gravatarUrl(email, 80)).toBe(expected.replace("s=48", "s=80"));
});

test("Gravatar hashes stay right past the cache's bound", () => {
  for (let i = 0; i < 10_050; i++) gravatarUrl(`user${i}@example.com`);
  expect(gravatarUrl("user7@example.com")).toContain(md5("user7@example.com"));
  expect(gravatarUrl("user10049@example.com")).toContain(md5("user10049@example.com"));
});

test.each([
  [`<script>alert("x")</script>`, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"],
  ["Tom & Jerry's", "Tom &amp; Jerry&#39;s"],
  ["plain", "plain"],
])("esc(%p) is %p", (text, escaped) => {
  expect(esc(text)).toBe(escaped);
});

test("dates are UTC, minutes precision; user paths are URL-encoded", () => {
  expect(formatDate(0)).toBe("1970-01-01 @ 00:00");
  expect(formatDate(1_700_000_000)).toBe("2023-11-14 @ 22:13");
  expect(userPath("a b/c")).toBe("/a%20b%2Fc");
});
