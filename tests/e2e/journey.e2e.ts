// A person's path through MiniTwit in a real browser, with JavaScript off
// (every page must work without it). Each step saves a screenshot, attached
// to the test report.
import { expect, type Page, type TestInfo, test } from "@playwright/test";

const run = Date.now().toString(36);
const me = `reader ${run}`;
const other = `writer_${run}`;

async function shot(page: Page, info: TestInfo, name: string) {
  const path = info.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await info.attach(name, { path, contentType: "image/png" });
}

async function signUp(page: Page, username: string, password: string) {
  await page.goto("/register");
  await page.getByLabel("Username:").fill(username);
  await page.getByLabel("E-Mail:").fill(`${username.replace(/\W/g, "")}@example.com`);
  await page.getByLabel("Password:", { exact: true }).fill(password);
  await page.getByLabel("Password (repeat):").fill(password);
  await page.getByRole("button", { name: "Sign Up" }).click();
}

async function signIn(page: Page, username: string, password: string) {
  await page.goto("/login");
  await page.getByLabel("Username:").fill(username);
  await page.getByLabel("Password:").fill(password);
  await page.getByRole("button", { name: "Sign In" }).click();
}

test.beforeAll(async ({ browser }) => {
  // Someone else to follow, with a message of their own.
  const page = await browser.newPage();
  await signUp(page, other, "other-pass");
  await signIn(page, other, "other-pass");
  await page.getByRole("textbox", { name: "Your message" }).fill(`Hello from ${other} & friends <3`);
  await page.getByRole("button", { name: "Share" }).click();
  await page.getByRole("link", { name: `sign out [${other}]` }).click();
  await page.close();
});

test("sign up, sign in, post, follow, unfollow, sign out", async ({ page }, info) => {
  await signUp(page, me, "my-pass");
  await expect(page).toHaveTitle("Sign In | MiniTwit");
  await expect(page.locator(".flashes li")).toHaveText(["You were successfully registered and can login now"]);
  await shot(page, info, "01-signed-up");

  await signIn(page, me, "my-pass");
  await expect(page).toHaveTitle("My Timeline | MiniTwit");
  await expect(page.locator(".flashes li")).toHaveText(["You were logged in"]);
  await expect(page.getByRole("heading", { name: `What's on your mind ${me}?` })).toBeVisible();
  await shot(page, info, "02-signed-in");

  const text = `My first message, with "quotes" & <angles> ${run}`;
  await page.getByRole("textbox", { name: "Your message" }).fill(text);
  await page.getByRole("button", { name: "Share" }).click();
  await expect(page.locator(".flashes li")).toHaveText(["Your message was recorded"]);
  await expect(page.locator(".messages li").first()).toContainText(text);
  await shot(page, info, "03-posted-my-timeline");

  await page.getByRole("link", { name: "public timeline" }).click();
  await expect(page).toHaveTitle("Public Timeline | MiniTwit");
  await expect(page.locator(".messages li").first()).toContainText(text);
  await shot(page, info, "04-public-timeline");

  await page.getByRole("link", { name: other, exact: true }).first().click();
  await expect(page).toHaveTitle(`${other}'s Timeline | MiniTwit`);
  await expect(page.locator(".followstatus")).toContainText("You are not yet following this user.");
  await shot(page, info, "05-other-user");

  await page.getByRole("link", { name: "Follow user" }).click();
  await expect(page.locator(".flashes li")).toHaveText([`You are now following "${other}"`]);
  await expect(page.locator(".followstatus")).toContainText("You are currently following this user.");
  await shot(page, info, "06-followed");

  await page.getByRole("link", { name: "my timeline" }).click();
  await expect(page.locator(".messages")).toContainText(`Hello from ${other} & friends <3`);
  await expect(page.locator(".messages")).toContainText(text);
  await shot(page, info, "07-my-timeline-with-followed");

  await page.goto(`/${encodeURIComponent(other)}`);
  await page.getByRole("link", { name: "Unfollow user" }).click();
  await expect(page.locator(".flashes li")).toHaveText([`You are no longer following "${other}"`]);
  await page.getByRole("link", { name: "my timeline" }).click();
  await expect(page.locator(".messages")).not.toContainText(`Hello from ${other}`);
  await shot(page, info, "08-unfollowed");

  await page.getByRole("link", { name: `sign out [${me}]` }).click();
  await expect(page).toHaveTitle("Public Timeline | MiniTwit");
  await expect(page.locator(".flashes li")).toHaveText(["You were logged out"]);
  await expect(page.getByRole("link", { name: "sign in" })).toBeVisible();
  await shot(page, info, "09-signed-out");
});

test("the public timeline at a phone's width", async ({ page }, info) => {
  await page.setViewportSize({ width: 375, height: 740 });
  await page.goto("/public");
  await expect(page.locator(".messages li").first()).toBeVisible();
  // Nothing is wider than the screen.
  const overflow = await page.evaluate<number>("document.documentElement.scrollWidth");
  expect(overflow).toBeLessThanOrEqual(375);
  await shot(page, info, "phone-public-timeline");
});
