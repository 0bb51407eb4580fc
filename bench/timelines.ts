// Reads at scale: a database seeded with `minitwit seed` (by default 10,000
// users and 1,000,000 messages), MiniTwit started on it, and each timeline
// read by 16 concurrent keep-alive clients, the first page and page 1,000.
// "My timeline" needs a session: the bench signs in through POST /login like
// any client that is not a browser and sends the session cookie it got.

import { type BenchPostgres, removeDir, seededDatabase, startBenchPostgres, startMiniTwit } from "./harness";
import { HttpClient } from "./http-client";
import { type LatencySummary, latencyTable, ServerSampler, summarize } from "./stats";
import { pickSubjects } from "./subjects";

export interface TimelinesOptions {
  readonly users: number;
  readonly messages: number;
  /** Requests per measured URL. */
  readonly requests: number;
  readonly concurrency: number;
  readonly binary: string | null;
  readonly logLevel: string;
  readonly poolMax?: number;
  readonly durable: boolean;
  readonly json: boolean;
  /** An already seeded database to read from, instead of a fresh one (then PostgreSQL's CPU is not measured). */
  readonly databaseUrl: string | null;
  /** Adds session settings to the URL MiniTwit gets. */
  readonly withParams: (url: string) => string;
}

interface Target {
  readonly label: string;
  readonly base: "web" | "api";
  readonly path: string;
  readonly cookie?: string;
}

export async function runTimelines(options: TimelinesOptions): Promise<void> {
  const pg = options.databaseUrl === null ? await startBenchPostgres(options.durable) : null;
  try {
    const url = options.databaseUrl ?? (await seededDatabase(pg as BenchPostgres, options.users, options.messages));
    const s = await pickSubjects(url);
    const server = await startMiniTwit({ ...options, databaseUrl: options.withParams(url) });
    try {
      const author = `/${encodeURIComponent(s.author.username)}`;
      const cookieOf500 = await signIn(server.web, s.follower500.username);
      const cookieOfHeaviest = await signIn(server.web, s.heaviestFollower.username);
      const n500 = s.follower500.follows;
      const nMax = s.heaviestFollower.follows;
      const before = (cursor: number | null) => (cursor === null ? "" : `?before=${cursor}`);
      const targets: Target[] = [
        { label: "GET /public", base: "web", path: "/public" },
        { label: "GET /public page 1,000", base: "web", path: `/public${before(s.publicPage1000Before)}` },
        { label: `GET /<user> (${s.author.messages} msgs)`, base: "web", path: author },
        { label: "GET /<user> page 1,000", base: "web", path: `${author}${before(s.authorPage1000Before)}` },
        { label: "GET /msgs?no=100", base: "api", path: "/msgs?no=100" },
        { label: "GET /msgs/<user>?no=100", base: "api", path: `/msgs${author}?no=100` },
        {
          label: "GET /fllws/<user>?no=100",
          base: "api",
          path: `/fllws/${encodeURIComponent(s.follower500.username)}?no=100`,
        },
        { label: `GET / (${n500} follows)`, base: "web", path: "/", cookie: cookieOf500 },
        {
          label: `GET / (${n500} follows) page 1,000`,
          base: "web",
          path: `/${before(s.follower500.page1000Before)}`,
          cookie: cookieOf500,
        },
        { label: `GET / (${nMax} follows)`, base: "web", path: "/", cookie: cookieOfHeaviest },
        {
          label: `GET / (${s.follower5.follows} follows)`,
          base: "web",
          path: "/",
          cookie: await signIn(server.web, s.follower5.username),
        },
      ];
      const sampler = new ServerSampler(server.pid);
      const results: Record<string, Row> = {};
      for (const target of targets) {
        const origin = target.base === "web" ? server.web : server.api;
        const headers = target.base === "api" ? `Authorization: Basic ${server.token}\r\n` : (target.cookie ?? "");
        // CPU per request, of the server and of PostgreSQL: what each page costs whatever else the machine runs.
        const cpu = new ServerSampler(server.pid);
        const pgBefore = pg?.cpuSeconds() ?? 0;
        const measured = await load(origin, target, headers, options.requests, options.concurrency);
        const perRequest = (seconds: number) => Math.round((seconds / options.requests) * 1e6);
        results[target.label] = {
          ...measured,
          serverCpuUs: perRequest(cpu.stop().cpuSeconds),
          postgresCpuUs: perRequest((pg?.cpuSeconds() ?? 0) - pgBefore),
        };
      }
      const memory = sampler.stop();
      if (options.json) {
        console.log(JSON.stringify({ subjects: s, startupMs: server.startupMs, results, server: memory }, null, 2));
        return;
      }
      console.log(
        `${options.messages} messages, ${options.users} users; ${options.requests} requests per row, ${options.concurrency} clients, keep-alive`,
      );
      console.log(latencyTable(results));
      for (const [label, r] of Object.entries(results)) {
        console.log(
          `${label}: ${r.requestsPerSecond} req/s; CPU per request: server ${r.serverCpuUs} µs, PostgreSQL ${r.postgresCpuUs} µs`,
        );
      }
      console.log(`server: peak RSS (VmHWM) ${memory.peakRssMb} MB, largest sampled RSS ${memory.sampledMaxRssMb} MB`);
    } finally {
      await server.stop();
      removeDir(server.dataDir);
    }
  } finally {
    await pg?.stop();
  }
}

/** Signs in with the seeded password; returns the Cookie header line with the session. */
async function signIn(web: string, username: string): Promise<string> {
  const res = await fetch(`${web}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ username, password: "minitwit" }).toString(),
  });
  const session = res.headers.getSetCookie().find((c) => c.startsWith("minitwit_session="));
  if (res.status !== 302 || session === undefined) throw new Error(`could not sign in as ${username}: ${res.status}`);
  return `Cookie: ${session.split(";")[0]}\r\n`;
}

type Row = LatencySummary & { requestsPerSecond: number; serverCpuUs: number; postgresCpuUs: number };

async function load(origin: string, target: Target, headers: string, requests: number, concurrency: number) {
  const times: number[] = [];
  let issued = 0;
  let failed = 0;
  const client = async () => {
    const http = new HttpClient(origin, true);
    try {
      // A few unmeasured requests first: the connection, the prepared statements.
      for (let i = 0; i < 3; i++) await http.request("GET", target.path, headers);
      while (issued++ < requests) {
        const started = performance.now();
        const res = await http.request("GET", target.path, headers);
        times.push(performance.now() - started);
        if (res.status !== 200) failed++;
      }
    } finally {
      http.close();
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, client));
  const seconds = (performance.now() - started) / 1000;
  if (failed > 0) throw new Error(`${target.label}: ${failed} of ${requests} requests did not answer 200`);
  return { ...summarize(times), requestsPerSecond: Math.round(times.length / seconds) };
}
