// A yardstick, not MiniTwit: the least a server must do for the simulator's
// writes, to measure what this machine allows before MiniTwit's own costs.
// Bun.serve and postgres.js, the same schema and the same one statement per
// write as MiniTwit, argon2id with MiniTwit's parameters for sign-ups; no
// framework, validation, logging, metrics, security headers or sessions, and
// `latest` kept in memory only. `bun run bench --bare` replays the scenario
// against it.
//
//   PORT=8081 DATABASE_URL=postgres://… [HASH_PASSWORDS=0] bun bench/bare-server.ts
//
// HASH_PASSWORDS=0 stores a fixed string instead of an argon2id hash, to show
// what the hashing costs (`bun run bench --bare --no-hash`).
import { Algorithm, hash } from "@node-rs/argon2";
import postgres from "postgres";

const ARGON2 = { algorithm: Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

const databaseUrl = process.env.DATABASE_URL;
if (databaseUrl === undefined) throw new Error("DATABASE_URL is required");
const sql = postgres(databaseUrl, { max: 10, connection: { plan_cache_mode: "force_generic_plan" } });
const hashPasswords = process.env.HASH_PASSWORDS !== "0";
let latest = -1;

const empty = (status: number) => new Response(null, { status });
const json = (status: number, body: unknown) => Response.json(body, { status });

async function handle(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const value = Number(url.searchParams.get("latest"));
  if (url.searchParams.has("latest") && Number.isSafeInteger(value)) latest = value;
  const path = url.pathname;
  if (request.method === "GET") {
    if (path === "/readyz") return json(200, { status: "ready" });
    if (path === "/latest") return json(200, { latest });
    if (path === "/msgs") return json(200, []);
    return empty(404);
  }
  if (request.method !== "POST") return empty(405);
  const body = (await request.json()) as Record<string, string | undefined>;
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
  if (path.startsWith("/fllws/")) {
    const who = decodeURIComponent(path.slice(7));
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
  return empty(404);
}

const server = Bun.serve({ port: Number(process.env.PORT ?? 8081), hostname: "127.0.0.1", fetch: handle });
process.on("SIGTERM", async () => {
  await server.stop();
  await sql.end({ timeout: 5 });
  process.exit(0);
});
