// /metrics: exact request counts by route template after a known sequence of
// requests, bounded label values, the business counters and the gauges.
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import postgres from "postgres";
import { routeMatcher, UNMATCHED } from "../../src/http/middleware/route-template";
import { canonical, type Sample, sampleValue, scrape } from "../support/scrape";
import { SIMULATOR_AUTH, startTestServer, type TestServer } from "../support/server";
import { errorOf, webClient } from "../support/web-client";

let running: TestServer | null = null;
afterEach(async () => {
  await running?.stop();
  running = null;
});

async function start(env: Record<string, string> = {}) {
  running = await startTestServer("postgres", env);
  return running;
}

type Step = [
  port: "api" | "web",
  method: string,
  path: string,
  body: unknown,
  auth: boolean,
  status: number,
  route: string,
];

async function send(server: TestServer, [port, method, path, body, auth]: Step): Promise<number> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (auth) headers.authorization = SIMULATOR_AUTH;
  const res = await fetch(server[port] + path, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

const requestsTotal = (samples: Sample[]) =>
  Object.fromEntries(
    samples.filter((s) => s.name === "http_requests_total").map((s) => [canonical(s.labels), s.value]),
  );

describe("request metrics", () => {
  // Every request, the status it must get and the route label it must be counted under.
  const sequence: Step[] = [
    ["api", "POST", "/register", { username: "alice", email: "a@x.dk", pwd: "pw1" }, false, 204, "/register"],
    ["api", "POST", "/register", { username: "bob", email: "b@x.dk", pwd: "pw2" }, false, 204, "/register"],
    ["api", "POST", "/register", { username: "alice", email: "a@x.dk", pwd: "pw1" }, false, 400, "/register"],
    ["api", "POST", "/msgs/alice", { content: "one" }, true, 204, "/msgs/:username"],
    ["web", "POST", "/api/msgs/alice", { content: "two" }, true, 204, "/api/msgs/:username"],
    ["api", "POST", "/msgs/alice", "{not json", true, 400, "/msgs/:username"],
    ["api", "POST", "/fllws/alice", { follow: "bob" }, true, 204, "/fllws/:username"],
    ["api", "POST", "/fllws/alice", { unfollow: "bob" }, true, 204, "/fllws/:username"],
    ["api", "POST", "/fllws/alice", { unfollow: "bob" }, true, 204, "/fllws/:username"],
    ["api", "POST", "/fllws/alice", { follow: "nobody" }, true, 404, "/fllws/:username"],
    ["api", "GET", "/msgs/alice", undefined, false, 403, "/msgs/:username"],
    ["api", "GET", "/msgs?no=5", undefined, true, 200, "/msgs"],
    ["api", "GET", "/latest", undefined, false, 200, "/latest"],
    ["web", "GET", "/api/msgs/Roger%20Histand", undefined, true, 404, "/api/msgs/:username"],
    ["api", "GET", `/no/such/thing/${crypto.randomUUID()}`, undefined, false, 404, UNMATCHED],
    ["api", "DELETE", "/register", undefined, false, 404, UNMATCHED],
    ["web", "GET", "/healthz", undefined, false, 200, "/healthz"],
  ];

  test("after a known sequence, each request is counted once under its route template and status", async () => {
    const server = await start();
    for (const step of sequence)
      expect([step[1], step[2], await send(server, step)]).toEqual([step[1], step[2], step[5]]);

    const expected: Record<string, number> = {};
    for (const [, method, , , , status, route] of sequence) {
      const key = canonical({ method, route, status: String(status) });
      expected[key] = (expected[key] ?? 0) + 1;
    }
    // The scrape itself is counted after its response, so it is not in its own figures.
    const samples = await scrape(server.metrics);
    expect(requestsTotal(samples)).toEqual(expected);

    // One duration observation per request, labelled without the status.
    const perRoute = new Map<string, { method: string; route: string; count: number }>();
    for (const [, method, , , , , route] of sequence) {
      const entry = perRoute.get(`${method} ${route}`) ?? { method, route, count: 0 };
      perRoute.set(`${method} ${route}`, { ...entry, count: entry.count + 1 });
    }
    for (const { method, route, count } of perRoute.values()) {
      const observed = sampleValue(samples, "http_request_duration_seconds_count", { method, route });
      expect({ method, route, observed }).toEqual({ method, route, observed: count });
    }

    // Unfollowing someone not followed still succeeds, and is counted.
    expect({
      registrations: sampleValue(samples, "minitwit_registrations_total"),
      messages: sampleValue(samples, "minitwit_messages_posted_total"),
      follows: sampleValue(samples, "minitwit_follows_total"),
      unfollows: sampleValue(samples, "minitwit_unfollows_total"),
    }).toEqual({ registrations: 2, messages: 2, follows: 1, unfollows: 2 });

    // A second scrape sees the first one counted.
    expect(requestsTotal(await scrape(server.metrics))).toEqual({
      ...expected,
      [canonical({ method: "GET", route: "/metrics", status: "200" })]: 1,
    });
  });

  test("requests to invented paths and methods add no label values, only counts", async () => {
    const server = await start();
    const invent = (i: number): Step => [
      i % 2 ? "api" : "web",
      i % 3 === 0 ? "PROPFIND" : "GET",
      `/no/such/thing/${crypto.randomUUID()}?x=${i}`,
      undefined,
      false,
      404,
      UNMATCHED,
    ];
    for (let i = 0; i < 6; i++) await send(server, invent(i));
    const before = requestsTotal(await scrape(server.metrics));
    for (let i = 0; i < 30; i++) await send(server, invent(i));
    const after = requestsTotal(await scrape(server.metrics));

    // The only new series is the first scrape's own; every invented path is "unmatched".
    const scrapes = canonical({ method: "GET", route: "/metrics", status: "200" });
    expect(Object.keys(after).sort()).toEqual([...Object.keys(before), scrapes].sort());
    const unmatched = (counts: Record<string, number>, method: string) =>
      counts[canonical({ method, route: UNMATCHED, status: "404" })] ?? 0;
    expect([
      unmatched(after, "GET") - unmatched(before, "GET"),
      unmatched(after, "OTHER") - unmatched(before, "OTHER"),
    ]).toEqual([20, 10]);
  });
});

test("the web pages count registrations, messages, follows and unfollows too, under route templates", async () => {
  const server = await start();
  const alice = webClient(server.web);
  await alice.register("bob");
  await alice.register("alice");
  expect(
    errorOf((await alice.post("/register", { username: "x", email: "x@x", password: "a", password2: "b" })).body),
  ).toBe("The two passwords do not match");
  await alice.login("alice");
  for (const step of [
    () => alice.post("/add_message", { text: "hello" }),
    () => alice.get("/bob/follow"),
    () => alice.get("/bob/unfollow"),
  ]) {
    expect((await step()).status).toBe(302);
  }

  const samples = await scrape(server.metrics);
  expect({
    registrations: sampleValue(samples, "minitwit_registrations_total"),
    messages: sampleValue(samples, "minitwit_messages_posted_total"),
    follows: sampleValue(samples, "minitwit_follows_total"),
    unfollows: sampleValue(samples, "minitwit_unfollows_total"),
  }).toEqual({ registrations: 2, messages: 1, follows: 1, unfollows: 1 });
  const count = (method: string, route: string, status: number) =>
    sampleValue(samples, "http_requests_total", { method, route, status: String(status) });
  expect([count("GET", "/:username/follow", 302), count("GET", "/:username/unfollow", 302)]).toEqual([1, 1]);
  expect([
    count("POST", "/add_message", 302),
    count("POST", "/register", 302),
    count("POST", "/register", 200),
  ]).toEqual([1, 2, 1]);
  expect(samples.some((s) => s.labels.route === "/bob/follow" || s.labels.route === "/bob")).toBe(false);
});

describe("route templates", () => {
  const match = routeMatcher([
    { method: "GET", path: "/" },
    { method: "GET", path: "/public" },
    { method: "GET", path: "/:username" },
    { method: "GET", path: "/:username/follow" },
    { method: "POST", path: "/add_message" },
    { method: "GET", path: "/static/*" },
    { method: "GET", path: "/api/msgs/:username" },
    { method: "POST", path: "/api/msgs/:username" },
  ]);

  test.each([
    ["GET", "/", "/"],
    ["GET", "/public", "/public"],
    ["GET", "/public/", "/public"],
    ["GET", "/p%75blic", "/public"],
    ["GET", "/%E0%A4%A", "/:username"],
    ["GET", "/Roger%20Histand", "/:username"],
    ["HEAD", "/Roger%20Histand", "/:username"],
    ["GET", "/Roger%20Histand/follow", "/:username/follow"],
    ["GET", "/Roger%20Histand/unfollow", UNMATCHED],
    ["POST", "/add_message", "/add_message"],
    ["GET", "/add_message", "/:username"],
    ["PUT", "/public", UNMATCHED],
    ["GET", "/static/css/style.css", "/static/*"],
    ["GET", "/api/msgs/bob?latest=3", "/api/msgs/:username"],
    ["GET", "/api/msgs/bob/extra", UNMATCHED],
    ["BREW", "/", UNMATCHED],
  ])("%s %s is %s", (method, path, template) => {
    expect(match(method, path)).toBe(template);
  });
});

test("the running release is exported, so Prometheus can count replicas by version", async () => {
  const server = await start();
  const samples = await scrape(server.metrics);
  const pkg = (await Bun.file(join(import.meta.dir, "..", "..", "package.json")).json()) as { version: string };
  expect(sampleValue(samples, "minitwit_build_info", { version: pkg.version, revision: "dev" })).toBe(1);
});

describe("gauges", () => {
  test("table sizes, the latest action id and the pool size are exported", async () => {
    const server = await start({ DATABASE_POOL_MAX: "7" });
    const post = (path: string, body: unknown) =>
      send(server, ["api", "POST", path, body, true, 204, ""]).then((status) => expect(status).toBe(204));
    for (const name of ["u1", "u2", "u3"]) await post("/register", { username: name, email: `${name}@x`, pwd: "p" });
    await post("/msgs/u1", { content: "a" });
    await post("/msgs/u2", { content: "b" });
    await post("/fllws/u1?latest=42", { follow: "u2" });

    // The gauges read PostgreSQL's statistics, which backends publish within
    // seconds; wait until they are visible, then scrape for the first time.
    const sql = postgres(server.config.databaseUrl as string, { max: 1, onnotice: () => {} });
    try {
      const expected = { users: 3, messages: 2, followers: 1 };
      for (let i = 0; i < 60; i++) {
        const rows = await sql.begin(async (tx) => {
          await tx`select pg_stat_clear_snapshot()`;
          return tx<{ relname: string; n: number }[]>`
            select relname, n_live_tup::int as n from pg_stat_user_tables
            where relname in ('users', 'messages', 'followers')`;
        });
        if (rows.every((r) => r.n === expected[r.relname as keyof typeof expected])) break;
        await Bun.sleep(500);
      }
    } finally {
      await sql.end();
    }

    const samples = await scrape(server.metrics);
    expect({
      users: sampleValue(samples, "minitwit_users"),
      messages: sampleValue(samples, "minitwit_messages"),
      follows: sampleValue(samples, "minitwit_follows"),
      latest: sampleValue(samples, "minitwit_latest_action_id"),
      pool: sampleValue(samples, "minitwit_db_pool_size"),
    }).toEqual({ users: 3, messages: 2, follows: 1, latest: 42, pool: 7 });
    // The default process metrics, under MiniTwit's prefix.
    expect(sampleValue(samples, "minitwit_process_resident_memory_bytes")).toBeGreaterThan(0);
  }, 60_000);
});
