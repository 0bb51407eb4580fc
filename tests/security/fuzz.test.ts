// Seeded fuzzing of every route: malformed JSON, wrong types, huge and empty
// fields, deep nesting, long arrays and huge numbers, invalid UTF-8, %00 and
// path tricks, injection strings and wrong methods. Nothing may answer 5xx, the process must stay up, and the data
// written before the fuzzing must be unchanged afterwards.
import { afterAll, beforeAll, expect, test } from "bun:test";
import postgres from "postgres";
import { apiClient, SIMULATOR_AUTH, startTestServer, type TestServer } from "../support/server";

const SEED = Number(process.env.FUZZ_SEED ?? 20261127);
const REQUESTS = 3000;
const TIME_BUDGET_MS = 45_000;

let server: TestServer;

/** mulberry32: small, seeded, reproducible. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
  return { next, pick };
}

const NASTY = [
  "",
  " ",
  "a",
  "x".repeat(5000),
  "' OR 1=1 --",
  "'; drop table users; --",
  "<script>alert(1)</script>",
  '"><img src=x onerror=alert(1)>',
  "%00",
  "\u0000",
  "../../etc/passwd",
  "%2e%2e%2f",
  "%C3%28",
  "%FF%FE",
  "\uD800",
  "😀".repeat(200),
  "null",
  "{}",
  "[]",
  "-1",
  "1e309",
];
const VALUES: unknown[] = [null, true, 0, -1, 1.5, Number.MAX_VALUE, [], {}, [1, 2], { a: 1 }, ...NASTY];

/** encodeURIComponent that sends a lone surrogate as the invalid UTF-8 it would be. */
function enc(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return "%ED%A0%80";
  }
}

function junkName(r: ReturnType<typeof rng>): string {
  const raw = r.pick(NASTY);
  // Sometimes raw (already percent-encoded tricks), sometimes encoded.
  return r.next() < 0.5 ? raw.replaceAll("/", "%2F").replaceAll("?", "%3F").replaceAll("#", "%23") : enc(raw);
}

/** Bodies that are valid JSON but extreme in shape: deep, long or numerically huge. */
function extreme(r: ReturnType<typeof rng>, keys: string[]): string {
  const key = JSON.stringify(r.pick(keys));
  const depth = r.pick([31, 32, 33, 100, 5000, 20_000]);
  const nest = r.pick(["[", '{"a":']);
  const close = nest === "[" ? "]" : "}";
  return r.pick([
    `{${key}:${nest.repeat(depth)}1${close.repeat(depth)}}`,
    `${"[".repeat(depth)}${"]".repeat(depth)}`,
    `{${key}:[${Array(r.pick([1000, 10_000, 30_000]))
      .fill(r.pick(["1", '"a"', "{}", "[]", "null"]))
      .join(",")}]}`,
    `{${key}:${r.pick(["1e400", "-1e400", "123456789012345678901234567890", "-0", "0.0000000000000000000001", "9".repeat(5000)])}}`,
    `{${Array.from({ length: 3000 }, (_, i) => `"k${i}":1`).join(",")}}`,
  ]);
}

function body(r: ReturnType<typeof rng>, keys: string[]): string {
  switch (Math.floor(r.next() * 8)) {
    case 6:
    case 7:
      return extreme(r, keys);
    case 0:
      return "{";
    case 1:
      return r.pick(['{"content": }', "[1,2", '{"username":"a",}', "\u0000", "\xff\xfe", "nul"]);
    case 2:
      return "";
    case 3:
      return JSON.stringify(r.pick(VALUES));
    default: {
      const obj: Record<string, unknown> = {};
      for (const k of keys) if (r.next() < 0.7) obj[k] = r.pick(VALUES);
      if (r.next() < 0.2) obj[r.pick(NASTY)] = r.pick(VALUES);
      return JSON.stringify(obj);
    }
  }
}

function request(r: ReturnType<typeof rng>): { url: string; init: RequestInit } {
  const api = r.next() < 0.6;
  const base = api ? (r.next() < 0.7 ? server.api : `${server.web}/api`) : server.web;
  const name = r.next() < 0.15 ? "alice" : junkName(r);
  const latest = r.next() < 0.3 ? `?latest=${enc(r.pick(NASTY))}` : r.next() < 0.3 ? `?no=${enc(r.pick(NASTY))}` : "";
  const paths = api
    ? [`/latest`, `/register`, `/msgs`, `/msgs/${name}`, `/fllws/${name}`, `/${name}`, `/msgs/${name}/${name}`]
    : [
        `/`,
        `/public`,
        `/login`,
        `/register`,
        `/logout`,
        `/add_message`,
        `/${name}`,
        `/${name}/follow`,
        `/${name}/unfollow`,
        `/static/${name}`,
        `/public?before=${name}`,
      ];
  const method = r.pick(["GET", "GET", "POST", "POST", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]);
  const headers: Record<string, string> = {};
  // Header values must be printable ASCII, or fetch refuses to send them.
  if (r.next() < 0.5)
    headers.authorization = r.next() < 0.8 ? SIMULATOR_AUTH : `Basic ${enc(r.pick(NASTY))}`.slice(0, 200);
  const form = !api && method === "POST";
  headers["content-type"] = r.pick(
    form
      ? ["application/x-www-form-urlencoded", "application/json", "text/plain", "multipart/form-data; boundary=x"]
      : ["application/json", "application/json", "text/plain", "application/x-www-form-urlencoded"],
  );
  let payload: string | undefined;
  if (method === "POST" || method === "PUT" || method === "PATCH") {
    // Forms are also posted as JSON, with the same extreme shapes as the API's bodies.
    payload =
      form && headers["content-type"] !== "application/json"
        ? new URLSearchParams({
            username: r.pick(NASTY),
            email: r.pick(NASTY),
            password: r.pick(NASTY),
            password2: r.pick(NASTY),
            text: r.pick(NASTY),
          }).toString()
        : body(r, ["username", "email", "pwd", "content", "follow", "unfollow", "text", "password"]);
  }
  // Writes with valid auth must not touch the seeded users: their names are never junk.
  return { url: base + r.pick(paths) + latest, init: { method, headers, body: payload, redirect: "manual" } };
}

async function snapshot(url: string) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const users =
    await sql`select user_id, username, email, pw_hash from users where username in ('alice', 'bob') order by user_id`;
  const messages =
    await sql`select message_id, author_id, text, pub_date, flagged from messages where message_id <= 20 order by message_id`;
  const follows = await sql`select who_id, whom_id from followers order by 1, 2`;
  await sql.end();
  return JSON.stringify({ users, messages, follows });
}

beforeAll(async () => {
  // No rate limit here: the fuzzer must reach the handlers, not the limiter.
  server = await startTestServer("postgres", { RATE_LIMIT_PER_SECOND: "0" });
  const api = apiClient(server.api);
  for (const name of ["alice", "bob"])
    await api.post("/register", { username: name, email: `${name}@x.dk`, pwd: "pw" });
  for (let i = 0; i < 10; i++) {
    await api.post("/msgs/alice", { content: `alice ${i}` });
    await api.post("/msgs/bob", { content: `bob ${i}` });
  }
  await api.post("/fllws/alice", { follow: "bob" });
});
afterAll(() => server.stop());

test(`${REQUESTS} seeded malformed requests: no 5xx, still up, earlier data unchanged (seed ${SEED})`, async () => {
  const before = await snapshot(server.config.databaseUrl as string);
  const r = rng(SEED);
  const failures: string[] = [];
  const started = Date.now();
  let sent = 0;
  const worker = async () => {
    while (sent < REQUESTS && Date.now() - started < TIME_BUDGET_MS) {
      sent++;
      const { url, init } = request(r);
      try {
        const res = await fetch(url, init);
        await res.arrayBuffer();
        if (res.status >= 500) failures.push(`${init.method} ${url} -> ${res.status}`);
      } catch (err) {
        failures.push(`${init.method} ${url} -> ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  expect(sent).toBeGreaterThan(1000);
  expect(failures.slice(0, 20)).toEqual([]);
  expect((await fetch(`${server.api}/latest`)).status).toBe(200);
  expect(await snapshot(server.config.databaseUrl as string)).toBe(before);
}, 120_000);
