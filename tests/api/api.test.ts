// The simulator API, spec section 1, against real Postgres and embedded PGlite.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { apiClient, type Driver, startTestServer, type TestServer } from "../support/server";

const NOT_AUTHORIZED = { status: 403, error_msg: "You are not authorized to use this resource!" };

describe.each(["postgres", "pglite"] as Driver[])("simulator API on %s", (driver) => {
  let server: TestServer;
  let api: ReturnType<typeof apiClient>;
  let anonymous: ReturnType<typeof apiClient>;

  beforeAll(async () => {
    server = await startTestServer(driver);
    api = apiClient(server.api);
    anonymous = apiClient(server.api, null);
  });
  afterAll(() => server.stop());

  test("latest is -1 before any value was received", async () => {
    expect(await api.get("/latest")).toMatchObject({ status: 200, json: { latest: -1 } });
  });

  test("register answers 204 with an empty body", async () => {
    const res = await api.post("/register?latest=1", { username: "Roger Histand", email: "r@h.dk", pwd: "pw" });
    expect(res).toMatchObject({ status: 204, text: "" });
    expect((await api.get("/latest")).json).toEqual({ latest: 1 });
  });

  test.each([
    [{ username: "", email: "a@b", pwd: "x" }, "You have to enter a username"],
    [{ email: "a@b", pwd: "x" }, "You have to enter a username"],
    [{ username: "", email: "", pwd: "" }, "You have to enter a username"],
    [{ username: "new1", email: "", pwd: "x" }, "You have to enter a valid email address"],
    [{ username: "new1", email: "no-at-sign", pwd: "" }, "You have to enter a valid email address"],
    [{ username: "new1", email: "a@b", pwd: "" }, "You have to enter a password"],
    [{ username: "Roger Histand", email: "a@b", pwd: "x" }, "The username is already taken"],
    // Names of fixed web routes: such a user's timeline could never be reached.
    [{ username: "metrics", email: "a@b", pwd: "x" }, "The username is already taken"],
    [{ username: "Public", email: "a@b", pwd: "x" }, "The username is already taken"],
  ])("register %j fails with its message", async (body, message) => {
    const res = await anonymous.post("/register", body);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ status: 400, error_msg: message });
  });

  test.each([
    ["GET", "/msgs"],
    ["GET", "/msgs/Roger%20Histand"],
    ["POST", "/msgs/Roger%20Histand"],
    ["GET", "/fllws/Roger%20Histand"],
    ["POST", "/fllws/Roger%20Histand"],
  ])("%s %s without authorization is 403", async (method, path) => {
    const res =
      method === "GET" ? await anonymous.get(path) : await anonymous.post(path, { content: "x", follow: "x" });
    expect(res.status).toBe(403);
    expect(res.json).toEqual(NOT_AUTHORIZED);
    const wrong = apiClient(server.api, "Basic d3Jvbmc6d3Jvbmc=");
    expect((await (method === "GET" ? wrong.get(path) : wrong.post(path, {}))).json).toEqual(NOT_AUTHORIZED);
  });

  test("a 400 and a 404 still store latest; the last value wins, not the maximum", async () => {
    await api.get("/msgs?latest=500");
    expect((await api.get("/latest")).json).toEqual({ latest: 500 });
    await api.postRaw("/msgs/Roger%20Histand?latest=42", "{not json");
    expect((await api.get("/latest")).json).toEqual({ latest: 42 });
    await api.get("/msgs/nobody?latest=43");
    expect((await api.get("/latest")).json).toEqual({ latest: 43 });
    await api.post("/register?latest=7", {});
    expect((await api.get("/latest")).json).toEqual({ latest: 7 });
  });

  // Issue 31, attack 11: a stranger moved the simulator's counter.
  test("only a request with the simulator's credential stores latest: a 403 or an anonymous sign-up does not", async () => {
    await api.get("/msgs?latest=600");
    const wrong = apiClient(server.api, "Basic d3Jvbmc6d3Jvbmc=");
    expect((await anonymous.get("/msgs?latest=601")).status).toBe(403);
    expect((await wrong.post("/fllws/Roger%20Histand?latest=602", { follow: "x" })).status).toBe(403);
    await anonymous.post("/register?latest=603", { username: "stranger", email: "s@x.dk", pwd: "pw" });
    await anonymous.post("/register?latest=604", {});
    await anonymous.get("/latest?latest=605");
    expect((await api.get("/latest")).json).toEqual({ latest: 600 });
  });

  test("a latest that is not an integer stores nothing", async () => {
    await api.get("/msgs?latest=8");
    for (const bad of ["abc", "1.5", "", "9e3", "99999999999999999999"]) await api.get(`/msgs?latest=${bad}`);
    expect((await api.get("/latest")).json).toEqual({ latest: 8 });
  });

  test("tweets with Unicode, quotes, < and & come back exactly, newest first, with integer pub_date", async () => {
    const texts = [`first 'quoted' "double"`, "<b>bold</b> & co", "Ünïcödé — “curly” 🎉"];
    for (const content of texts) {
      expect((await api.post("/msgs/Roger%20Histand", { content })).status).toBe(204);
    }
    const res = await api.get("/msgs/Roger%20Histand");
    expect(res.status).toBe(200);
    expect(res.json.map((m: { content: string }) => m.content)).toEqual([...texts].reverse());
    for (const m of res.json) {
      expect(Object.keys(m).sort()).toEqual(["content", "pub_date", "user"]);
      expect(Number.isInteger(m.pub_date)).toBe(true);
      expect(Math.abs(m.pub_date - Date.now() / 1000)).toBeLessThan(60);
      expect(m.user).toBe("Roger Histand");
    }
    expect((await api.get("/msgs")).json[0].content).toBe(texts[2]);
  });

  test("no limits the number of messages and falls back to 100 when not an integer", async () => {
    for (let i = 0; i < 105; i++) await api.post("/msgs/Roger%20Histand", { content: `bulk ${i}` });
    expect((await api.get("/msgs?no=2")).json.map((m: { content: string }) => m.content)).toEqual([
      "bulk 104",
      "bulk 103",
    ]);
    expect((await api.get("/msgs/Roger%20Histand?no=3")).json).toHaveLength(3);
    expect((await api.get("/msgs")).json).toHaveLength(100);
    expect((await api.get("/msgs?no=abc")).json).toHaveLength(100);
    expect((await api.get("/msgs?no=0")).json).toHaveLength(0);
  });

  test("unknown users are 404 with a JSON body", async () => {
    for (const res of [
      await api.get("/msgs/nobody"),
      await api.post("/msgs/nobody", { content: "x" }),
      await api.get("/fllws/nobody"),
      await api.post("/fllws/nobody", { follow: "Roger Histand" }),
      await api.post("/fllws/Roger%20Histand", { follow: "nobody" }),
      await api.post("/fllws/Roger%20Histand", { unfollow: "nobody" }),
    ]) {
      expect(res.status).toBe(404);
      expect(res.json.status).toBe(404);
      expect(typeof res.json.error_msg).toBe("string");
    }
  });

  test("follow is idempotent, unfollow of a user not followed is 204, follow wins over unfollow", async () => {
    for (const name of ["Geoffrey Stieff", "Wendell Ballan"]) {
      await anonymous.post("/register", { username: name, email: "g@s.dk", pwd: "x" });
    }
    const follows = () => api.get("/fllws/Roger%20Histand");
    expect((await follows()).json).toEqual({ follows: [] });
    expect((await api.post("/fllws/Roger%20Histand", { follow: "Geoffrey Stieff" })).status).toBe(204);
    expect((await api.post("/fllws/Roger%20Histand", { follow: "Geoffrey Stieff" })).status).toBe(204);
    expect((await follows()).json).toEqual({ follows: ["Geoffrey Stieff"] });
    expect((await api.post("/fllws/Roger%20Histand", { unfollow: "Wendell Ballan" })).status).toBe(204);
    const both = await api.post("/fllws/Roger%20Histand", { follow: "Wendell Ballan", unfollow: "Geoffrey Stieff" });
    expect(both.status).toBe(204);
    expect((await follows()).json).toEqual({ follows: ["Geoffrey Stieff", "Wendell Ballan"] });
    expect((await api.get("/fllws/Roger%20Histand?no=1")).json.follows).toHaveLength(1);
    expect((await api.post("/fllws/Roger%20Histand", { unfollow: "Geoffrey Stieff" })).status).toBe(204);
    expect((await follows()).json).toEqual({ follows: ["Wendell Ballan"] });
  });

  test.each([
    ["malformed JSON", "/msgs/Roger%20Histand", "{", "not valid JSON"],
    ["an array", "/msgs/Roger%20Histand", "[1]", '"content" is required'],
    ["a missing key", "/msgs/Roger%20Histand", "{}", '"content" is required'],
    ["a wrong type", "/msgs/Roger%20Histand", '{"content": 5}', '"content" must be a string'],
    ["an empty body", "/msgs/Roger%20Histand", "", ""],
    ["neither follow nor unfollow", "/fllws/Roger%20Histand", "{}", "follow or unfollow"],
    ["a numeric follow", "/fllws/Roger%20Histand", '{"follow": 1}', '"follow" must be a string'],
    ["a numeric username", "/register", '{"username": 1, "email": "a@b", "pwd": "x"}', '"username" must be'],
  ])("%s is a 400 with an error_msg, never a 500", async (_, path, raw, message) => {
    const res = await api.postRaw(path, raw);
    expect(res.status).toBe(400);
    expect(res.json.status).toBe(400);
    expect(res.json.error_msg).toContain(message);
  });

  test("the API is also served under /api on the web port", async () => {
    const web = apiClient(`${server.web}/api`);
    expect((await web.get("/latest?latest=1")).json).toEqual((await api.get("/latest")).json);
    await web.get("/msgs?latest=77");
    expect((await api.get("/latest")).json).toEqual({ latest: 77 });
    expect((await web.get("/msgs/Roger%20Histand?no=1")).json).toEqual(
      (await api.get("/msgs/Roger%20Histand?no=1")).json,
    );
    expect((await apiClient(`${server.web}/api`, null).get("/msgs")).status).toBe(403);
  });

  test("latest survives a restart", async () => {
    await api.get("/msgs?latest=31337");
    await server.server.stop(); // keeps DATA_DIR for the next start
    const { DATABASE_URL, DATA_DIR } = { DATABASE_URL: server.config.databaseUrl, DATA_DIR: server.config.dataDir };
    server = await startTestServer(driver, {
      ...(DATABASE_URL ? { DATABASE_URL } : {}),
      DATA_DIR,
    });
    api = apiClient(server.api);
    expect((await api.get("/latest")).json).toEqual({ latest: 31337 });
  });
});
