// The web application, spec section 2, over real HTTP against real Postgres:
// every route, message and error string, in their order of precedence.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../support/server";
import { errorOf, flashesOf, titleOf, webClient } from "../support/web-client";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer("postgres");
  const setup = webClient(server.web);
  for (const name of ["alice", "bob", "carol", "cursor"]) await setup.register(name);
});
afterAll(() => server.stop());

const client = () => webClient(server.web);
const signedIn = async (name: string) => {
  const c = client();
  await c.login(name);
  return c;
};

describe("anonymous visitors", () => {
  test("/ redirects to /public", async () => {
    expect(await client().get("/")).toMatchObject({ status: 302, location: "/public" });
  });

  test("the public timeline has the spec's title, heading and anonymous navigation", async () => {
    const page = (await client().get("/public")).body;
    expect(titleOf(page)).toBe("Public Timeline | MiniTwit");
    expect(page).toContain("<h2>Public Timeline</h2>");
    expect(page).toContain("<h1>MiniTwit</h1>");
    expect(page).toMatch(/public timeline<\/a> \| <a href="\/register">sign up<\/a> \| <a href="\/login">sign in<\/a>/);
  });

  test.each(["/public", "/alice", "/login", "/register", "/no-such-user"])(
    "%s is served as an HTML document in UTF-8",
    async (path) => {
      const res = await client().get(path);
      expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(res.body).toStartWith("<!doctype html>");
    },
  );

  test.each([
    ["GET", "/alice/follow"],
    ["GET", "/alice/unfollow"],
    ["POST", "/add_message"],
  ])("%s %s is 401", async (method, path) => {
    const c = client();
    const res = method === "GET" ? await c.get(path) : await c.post(path, { text: "hi" });
    expect(res.status).toBe(401);
  });

  test("a user's timeline has no followstatus box; an unknown user is 404", async () => {
    const page = await client().get("/alice");
    expect(page.status).toBe(200);
    expect(titleOf(page.body)).toBe("alice&#39;s Timeline | MiniTwit");
    expect(page.body).not.toContain("followstatus");
    expect((await client().get("/nobody-here")).status).toBe(404);
  });
});

describe("signing up", () => {
  test.each([
    [{ username: "", email: "", password: "", password2: "" }, "You have to enter a username"],
    [{ username: "dave", email: "", password: "", password2: "" }, "You have to enter a valid email address"],
    [{ username: "dave", email: "no-at", password: "", password2: "" }, "You have to enter a valid email address"],
    [{ username: "dave", email: "d@x", password: "", password2: "" }, "You have to enter a password"],
    [{ username: "dave", email: "d@x", password: "a", password2: "b" }, "The two passwords do not match"],
    [{ username: "alice", email: "d@x", password: "a", password2: "a" }, "The username is already taken"],
    [{ username: "login", email: "d@x", password: "a", password2: "a" }, "The username is already taken"],
  ])("%j shows its error and keeps the typed username and email", async (form, message) => {
    const res = await client().post("/register", form);
    expect(res.status).toBe(200);
    expect(titleOf(res.body)).toBe("Sign Up | MiniTwit");
    expect(errorOf(res.body)).toBe(message);
    expect(res.body).toContain(`name="username" size="30" value="${form.username}"`);
    expect(res.body).toContain(`name="email" size="30" value="${form.email}"`);
  });

  test("success flashes once and redirects to /login", async () => {
    const c = client();
    const res = await c.post("/register", { username: "erin", email: "e@x", password: "secret", password2: "secret" });
    expect(res).toMatchObject({ status: 302, location: "/login" });
    const login = await c.get("/login");
    expect(flashesOf(login.body)).toEqual(["You were successfully registered and can login now"]);
    expect(flashesOf((await c.get("/login")).body)).toEqual([]);
  });

  test("typed values are escaped when shown again", async () => {
    const res = await client().post("/register", { username: `x"><script>`, email: "", password: "", password2: "" });
    expect(res.body).toContain('value="x&#34;&gt;&lt;script&gt;"');
    expect(res.body).not.toContain("<script>");
  });
});

describe("signing in and out", () => {
  test.each([
    [{ username: "nobody", password: "secret" }, "Invalid username"],
    [{ username: "bob", password: "wrong" }, "Invalid password"],
  ])("%j shows its error", async (form, message) => {
    const res = await client().post("/login", form);
    expect(titleOf(res.body)).toBe("Sign In | MiniTwit");
    expect(errorOf(res.body)).toBe(message);
  });

  test("success flashes 'You were logged in' on /, signed-in navigation; /login then redirects", async () => {
    const c = client();
    const res = await c.post("/login", { username: "bob", password: "secret" });
    expect(res).toMatchObject({ status: 302, location: "/" });
    const home = await c.get("/");
    expect(titleOf(home.body)).toBe("My Timeline | MiniTwit");
    expect(flashesOf(home.body)).toEqual(["You were logged in"]);
    expect(home.body).toMatch(
      /my timeline<\/a> \| <a href="\/public">public timeline<\/a> \| <a href="\/logout">sign out \[bob\]<\/a>/,
    );
    expect(flashesOf((await c.get("/")).body)).toEqual([]);
    expect(await c.get("/login")).toMatchObject({ status: 302, location: "/" });
    expect(await c.get("/register")).toMatchObject({ status: 302, location: "/" });
  });

  test("the session cookie is HttpOnly and SameSite=Lax, and not Secure over plain HTTP", async () => {
    const res = await client().post("/login", { username: "bob", password: "secret" });
    const session = res.headers.getSetCookie().find((c) => c.startsWith("minitwit_session="));
    expect(session).toContain("HttpOnly");
    expect(session).toContain("SameSite=Lax");
    expect(session).not.toContain("Secure");
  });

  test("a forged or tampered session cookie is ignored", async () => {
    const c = await signedIn("bob");
    const token = c.jar.get("minitwit_session") as string;
    const [v, body, mac] = token.split(".");
    const otherUser = Buffer.from(`1:${Math.floor(Date.now() / 1000) + 999}`).toString("base64url");
    c.jar.set("minitwit_session", `${v}.${otherUser}.${mac}`);
    expect(await c.get("/")).toMatchObject({ status: 302, location: "/public" });
    c.jar.set("minitwit_session", `${v}.${body}.${mac}`);
    expect((await c.get("/")).status).toBe(200);
  });

  test("logout flashes, ends the session and redirects to /public", async () => {
    const c = await signedIn("bob");
    expect(await c.get("/logout")).toMatchObject({ status: 302, location: "/public" });
    const page = await c.get("/public");
    expect(flashesOf(page.body)).toEqual(["You were logged out"]);
    expect(await c.get("/")).toMatchObject({ status: 302, location: "/public" });
  });
});

describe("posting and following", () => {
  test("a message is recorded, flashed, escaped, and shown with author link, Gravatar and UTC date", async () => {
    const c = await signedIn("alice");
    await c.get("/"); // consume the sign-in flash
    const res = await c.post("/add_message", { text: "<test message 2>" });
    expect(res).toMatchObject({ status: 302, location: "/" });
    const home = await c.get("/");
    expect(flashesOf(home.body)).toEqual(["Your message was recorded"]);
    expect(home.body).toContain("<h3>What's on your mind alice?</h3>");
    expect(home.body).toContain('<form action="/add_message" method="post">');
    expect(home.body).toContain('value="Share"');
    expect(home.body).toContain("&lt;test message 2&gt;");
    expect(home.body).not.toContain("<test message 2>");
    expect(home.body).toMatch(
      /<a href="\/alice">alice<\/a><\/strong> &lt;test message 2&gt; <small>— \d{4}-\d\d-\d\d @ \d\d:\d\d<\/small>/,
    );
    const md5 = new Bun.CryptoHasher("md5").update("alice@example.com").digest("hex");
    expect(home.body).toContain(`https://www.gravatar.com/avatar/${md5}?d=identicon&s=48`);
    expect((await client().get("/public")).body).toContain("&lt;test message 2&gt;");
  });

  test("an empty message stores nothing", async () => {
    const c = await signedIn("carol");
    await c.post("/add_message", { text: "   " });
    expect((await c.get("/carol")).body).toContain("<em>There's no message so far.</em>");
  });

  test("follow and unfollow: status box, flashes with &#34;, redirects, and my timeline", async () => {
    const bob = await signedIn("bob");
    await bob.get("/");
    expect((await bob.get("/bob")).body).toContain("This is you!");
    let page = (await bob.get("/alice")).body;
    expect(page).toContain("You are not yet following this user.");
    expect(page).toContain('<a class="follow" href="/alice/follow">Follow user</a>');
    expect((await bob.get("/")).body).not.toContain("&lt;test message 2&gt;");

    expect(await bob.get("/alice/follow")).toMatchObject({ status: 302, location: "/alice" });
    page = (await bob.get("/alice")).body;
    expect(flashesOf(page)).toEqual(["You are now following &#34;alice&#34;"]);
    expect(page).toContain("You are currently following this user.");
    expect(page).toContain('<a class="unfollow" href="/alice/unfollow">Unfollow user</a>');
    expect((await bob.get("/")).body).toContain("&lt;test message 2&gt;");

    expect(await bob.get("/alice/unfollow")).toMatchObject({ status: 302, location: "/alice" });
    expect(flashesOf((await bob.get("/alice")).body)).toEqual(["You are no longer following &#34;alice&#34;"]);
    expect((await bob.get("/")).body).not.toContain("&lt;test message 2&gt;");
    expect((await bob.get("/nobody-here/follow")).status).toBe(404);
  });

  test("usernames with spaces and quotes work in links and flashes", async () => {
    const c = client();
    await c.register(`Roger "R" Histand`);
    const bob = await signedIn("bob");
    const path = `/${encodeURIComponent(`Roger "R" Histand`)}`;
    expect((await bob.get(path)).status).toBe(200);
    const res = await bob.get(`${path}/follow`);
    expect(res.location).toBe(path);
    expect(flashesOf((await bob.get(path)).body)).toEqual([
      "You are now following &#34;Roger &#34;R&#34; Histand&#34;",
    ]);
  });
});

describe("cross-site protection", () => {
  test.each([
    ["Sec-Fetch-Site: cross-site", { "sec-fetch-site": "cross-site" }, 403],
    ["a foreign Origin", { origin: "https://evil.example" }, 403],
    ["Origin: null", { origin: "null" }, 403],
    ["no such headers (a script)", {}, 302],
    ["Sec-Fetch-Site: same-origin", { "sec-fetch-site": "same-origin" }, 302],
  ])("a POST with %s answers %d", async (_, headers: Record<string, string>, status) => {
    const c = await signedIn("carol");
    const origin: Record<string, string> = status === 302 && "sec-fetch-site" in headers ? { origin: server.web } : {};
    const res = await c.post("/add_message", { text: "cross-site check" }, { ...headers, ...origin });
    expect(res.status).toBe(status);
  });

  test("the follow link and sign-in are guarded too", async () => {
    const c = await signedIn("carol");
    expect((await c.get("/alice/follow", { "sec-fetch-site": "cross-site" })).status).toBe(403);
    expect(
      (await client().post("/login", { username: "bob", password: "secret" }, { origin: "https://evil.example" }))
        .status,
    ).toBe(403);
    expect((await client().post("/register", { username: "zed" }, { "sec-fetch-site": "cross-site" })).status).toBe(
      403,
    );
    // Navigating to a page from another site is fine.
    expect((await client().get("/public", { "sec-fetch-site": "cross-site" })).status).toBe(200);
  });
});

describe("pagination", () => {
  test("30 messages a page, an older-messages link by message id, and the pages join up", async () => {
    const c = await signedIn("carol");
    for (let i = 1; i <= 65; i++) await c.post("/add_message", { text: `page message ${i}` });
    const texts = (page: string) => [...page.matchAll(/page message (\d+)/g)].map((m) => Number(m[1]));
    const first = (await c.get("/carol")).body;
    expect(texts(first)).toEqual(Array.from({ length: 30 }, (_, i) => 65 - i));
    const next = /<a href="([^"]+)" rel="next">older messages/.exec(first)?.[1] as string;
    expect(next).toMatch(/^\/carol\?before=\d+$/);
    const second = (await c.get(next)).body;
    expect(texts(second)).toEqual(Array.from({ length: 30 }, (_, i) => 35 - i));
    const third = (await c.get(/<a href="([^"]+)" rel="next">/.exec(second)?.[1] as string)).body;
    expect(texts(third)).toEqual([5, 4, 3, 2, 1]);
    expect(third).not.toContain('rel="next"');
  }, 60_000);

  // A message id is a 4-byte integer; a larger cursor once reached the database and failed with a 500.
  test.each([
    ["/cursor", "2147483647"],
    ["/cursor", "2147483648"],
    ["/public", "9999999999"],
  ])("%s?before=%s, beyond any message id, shows the newest page", async (path, before) => {
    const c = await signedIn("cursor");
    await c.post("/add_message", { text: `newest for ${path}?before=${before}` });
    const res = await c.get(`${path}?before=${before}`);
    expect(res.status).toBe(200);
    expect(res.body).toContain(`newest for ${path}?before=${before}`);
  });
});

describe("the stylesheet", () => {
  test("is served under a content hash with a year-long cache lifetime", async () => {
    const page = (await client().get("/public")).body;
    const href = /<link rel="stylesheet" href="([^"]+)"/.exec(page)?.[1] as string;
    expect(href).toMatch(/^\/static\/style\.[0-9a-f]{12}\.css$/);
    const css = await client().get(href);
    expect(css.headers.get("content-type")).toContain("text/css");
    expect(css.headers.get("cache-control")).toContain("max-age=31536000");
    for (const name of [
      "page",
      "navigation",
      "flashes",
      "body",
      "footer",
      "followstatus",
      "twitbox",
      "messages",
      "error",
      "actions",
    ]) {
      expect(css.body).toContain(`.${name}`);
    }
  });
});
