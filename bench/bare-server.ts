// A yardstick, not MiniTwit: the least a server must do for the simulator's
// API, to measure what this machine allows before MiniTwit's own costs.
// Bun.serve and postgres.js, the same schema and the same one statement per
// request as MiniTwit (its SQL text copied from src/store/, so the yardstick
// stays free of the framework and of drizzle), argon2id with MiniTwit's
// parameters for sign-ups, the same JSON shapes; no validation, logging,
// metrics, security headers, sessions or authorization, and `latest` kept in
// memory only. `bun run bench --bare` and `--compare` replay the scenario
// against it.
//
//   PORT=8081 DATABASE_URL=postgres://… [HASH_PASSWORDS=0] bun bench/bare-server.ts
//
// HASH_PASSWORDS=0 stores a fixed string instead of an argon2id hash, to show
// what the hashing costs (`bun run bench --bare --no-hash`). BARE_DUTIES=1
// adds MiniTwit's per-request duties (bench/bare-duties.ts).
import { Algorithm, hash } from "@node-rs/argon2";
import postgres from "postgres";

const ARGON2 = { algorithm: Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
// src/http/api/routes.ts: `no` defaults to 100, at most 10,000.
const DEFAULT_NO = 100;
const MAX_NO = 10_000;
// src/store/messages.ts: the public timeline's cursor when a page has none.
const NO_CURSOR = 2_147_483_647;

const databaseUrl = process.env.DATABASE_URL;
if (databaseUrl === undefined) throw new Error("DATABASE_URL is required");
const sql = postgres(databaseUrl, {
  max: Number(process.env.DATABASE_POOL_MAX ?? 10),
  connection: { plan_cache_mode: "force_generic_plan" },
});
const hashPasswords = process.env.HASH_PASSWORDS !== "0";
let latest = -1;

const empty = (status: number) => new Response(null, { status });
const json = (status: number, body: unknown) => Response.json(body, { status });
const notFound = (username: string) => json(404, { status: 404, error_msg: `User "${username}" not found` });

/** `parsed`: the body when the duties (bench/bare-duties.ts) have read it already. */
async function handle(request: Request, parsed: Record<string, unknown> | null = null): Promise<Response> {
  const url = new URL(request.url);
  const value = Number(url.searchParams.get("latest"));
  if (url.searchParams.has("latest") && Number.isSafeInteger(value)) latest = value;
  const path = url.pathname;
  if (request.method === "GET") {
    if (path === "/readyz") return json(200, { status: "ready" });
    if (path === "/latest") return json(200, { latest });
    return read(path, count(url.searchParams.get("no")));
  }
  if (request.method !== "POST") return empty(405);
  const body = (parsed ?? (await request.json())) as Record<string, string | undefined>;
  if (path === "/register") {
    const pwHash = hashPasswords ? await hash(body.pwd ?? "", ARGON2) : "not hashed";
    const created = await sql`insert into users (username, email, pw_hash)
      values (${body.username ?? ""}, ${body.email ?? ""}, ${pwHash})
      on conflict (username) do nothing returning user_id`;
    return created.length > 0 ? empty(204) : json(400, { status: 400, error_msg: "The username is already taken" });
  }
  if (path.startsWith("/msgs/")) {
    const inserted = await sql`insert into messages (author_id, text, pub_date)
      select user_id, ${body.content ?? ""}, ${Math.floor(Date.now() / 1000)} from users
      where username = ${decodeURIComponent(path.slice(6))} returning message_id`;
    return inserted.length > 0 ? empty(204) : empty(404);
  }
  if (path.startsWith("/fllws/")) return changeFollow(decodeURIComponent(path.slice(7)), body);
  return empty(404);
}

async function changeFollow(who: string, body: Record<string, string | undefined>): Promise<Response> {
  const whom = body.follow ?? body.unfollow ?? "";
  const [found] =
    body.follow !== undefined
      ? await sql`with a as (select user_id from users where username = ${who}),
                       b as (select user_id from users where username = ${whom}),
                       ins as (insert into followers (who_id, whom_id) select a.user_id, b.user_id from a, b
                               on conflict do nothing)
                  select (select user_id from a) as who, (select user_id from b) as whom`
      : await sql`with a as (select user_id from users where username = ${who}),
                       b as (select user_id from users where username = ${whom}),
                       del as (delete from followers using a, b
                               where followers.who_id = a.user_id and followers.whom_id = b.user_id)
                  select (select user_id from a) as who, (select user_id from b) as whom`;
  return found?.who != null && found.whom != null ? empty(204) : empty(404);
}

type Message = { text: string; pub_date: string | number; username: string };
const toApi = (m: Message) => ({ content: m.text, pub_date: Number(m.pub_date), user: m.username });

/** The simulator's reads, each MiniTwit's statement (publicTimeline, timelineByUsername, followingNames). */
async function read(path: string, no: number): Promise<Response> {
  if (path === "/msgs") {
    const found = await sql<Message[]>`select m.message_id, m.text, m.pub_date, u.username, u.email
      from messages m
      join users u on u.user_id = m.author_id
      where m.flagged = false and m.message_id < ${NO_CURSOR}
      order by m.message_id desc nulls last
      limit ${no}`;
    return json(200, found.map(toApi));
  }
  if (path.startsWith("/msgs/")) {
    const username = decodeURIComponent(path.slice(6));
    const found = await sql<(Message | { text: null })[]>`select m.message_id, m.text, m.pub_date, u.username, u.email
      from users u
      left join lateral (
        select message_id, text, pub_date from messages
        where author_id = u.user_id and flagged = false
        order by message_id desc nulls last limit ${no}
      ) m on true
      where u.username = ${username}`;
    if (found.length === 0) return notFound(username);
    return json(
      200,
      found.flatMap((m) => (m.text === null ? [] : [toApi(m)])),
    );
  }
  if (path.startsWith("/fllws/")) {
    const username = decodeURIComponent(path.slice(7));
    const found = await sql<{ name: string | null }[]>`select f.name from users u
      left join lateral (
        select w.username as name from followers
        join users w on w.user_id = followers.whom_id
        where followers.who_id = u.user_id
        order by followers.whom_id
        limit ${no}
      ) f on true
      where u.username = ${username}`;
    if (found.length === 0) return notFound(username);
    return json(200, { follows: found.flatMap((r) => (r.name === null ? [] : [r.name])) });
  }
  return empty(404);
}

/** `no` as the spec reads it: an integer, else 100. */
function count(raw: string | null): number {
  if (raw === null || !/^\d{1,9}$/.test(raw)) return DEFAULT_NO;
  return Math.min(Number(raw), MAX_NO);
}

// BARE_DUTIES=1: MiniTwit's per-request duties around the same handler (`--compare --duties`).
// Imported only then, so the bare yardstick loads none of MiniTwit's modules.
const serveRequest =
  process.env.BARE_DUTIES === "1"
    ? (await import("./bare-duties")).withDuties(handle, sql)
    : (request: Request) => handle(request);
const server = Bun.serve({ port: Number(process.env.PORT ?? 8081), hostname: "127.0.0.1", fetch: serveRequest });
process.on("SIGTERM", async () => {
  await server.stop();
  await sql.end({ timeout: 5 });
  process.exit(0);
});
