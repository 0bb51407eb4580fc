// Issue 31, attack 13: the sign-up form accepted `a` and a single space as
// passwords. The form now asks for WEB_MIN_PASSWORD_LENGTH characters, checked
// after the spec's checks and in their order, so the course's own web tests
// (which sign up with `default`, 7 characters, and expect "You have to enter
// a valid email address" for password `foo` with a broken e-mail) still pass;
// the simulator's API keeps the course's contract.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { WEB_MIN_PASSWORD_LENGTH } from "../../src/accounts/signup";
import { apiClient, startTestServer, type TestServer } from "../support/server";
import { errorOf, webClient } from "../support/web-client";

const TOO_SHORT = `The password must be at least ${WEB_MIN_PASSWORD_LENGTH} characters long`;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer("postgres", { RATE_LIMIT_PER_SECOND: "0" });
});
afterAll(() => server.stop());

const signUp = async (username: string, password: string, password2 = password, email = "x@example.com") => {
  const page = await webClient(server.web).post("/register", { username, email, password, password2 });
  return page.status === 302 ? page.location : errorOf(page.body);
};

test("the minimum is 6 or 7 characters: the course's tests sign up with `default`", () => {
  expect(WEB_MIN_PASSWORD_LENGTH).toBeGreaterThanOrEqual(6);
  expect(WEB_MIN_PASSWORD_LENGTH).toBeLessThanOrEqual("default".length);
});

test.each([
  ["one letter", "a"],
  ["a single space", " "],
  ["one character short", "x".repeat(WEB_MIN_PASSWORD_LENGTH - 1)],
  ["five emoji (ten UTF-16 units)", "🔑".repeat(WEB_MIN_PASSWORD_LENGTH - 1)],
])("a password of %s is refused on the form, and nobody is registered", async (_, password) => {
  expect(await signUp("shorty", password)).toBe(TOO_SHORT);
  expect((await webClient(server.web).login("shorty", password)).body).toContain("Invalid username");
});

test("the course's passwords and a password of the minimum length register", async () => {
  expect(await signUp("user1", "default")).toBe("/login");
  expect(await signUp("minimal", "m".repeat(WEB_MIN_PASSWORD_LENGTH))).toBe("/login");
});

test("the spec's checks come first, in their order, as the course's web tests expect", async () => {
  expect(await signUp("", "a")).toBe("You have to enter a username");
  expect(await signUp("meh", "foo", "foo", "broken")).toBe("You have to enter a valid email address");
  expect(await signUp("meh", "")).toBe("You have to enter a password");
  expect(await signUp("meh", "x", "y")).toBe("The two passwords do not match");
  expect(await signUp("user1", "a")).toBe("The username is already taken");
});

test("the simulator's API keeps the course's contract: any non-empty password", async () => {
  const api = apiClient(server.api);
  expect((await api.post("/register", { username: "sim", email: "s@example.com", pwd: "a" })).status).toBe(204);
});
