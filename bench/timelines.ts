// Reads at scale: a database seeded with `minitwit seed` (by default 10,000
// users and 1,000,000 messages), MiniTwit started on it, and each timeline
// read by 16 concurrent keep-alive clients, the first page and page 1,000.
// "My timeline" needs a session: the bench signs in through POST /login like
// any client that is not a browser and sends the session cookie it got.
// With `--bare` the yardstick (bench/bare-server.ts) serves the simulator
// API's reads instead, and `--compare` reads them from both in pairs on the
// same seeded database (reads change nothing, so one seeding serves all runs).

import { comparePairs } from "./compare";
import type { Figures, Side } from "./compare-report";
import { seededDatabase } from "./databases";
import {
  type BenchPostgres,
  type BenchServer,
  removeDir,
  startBareServer,
  startBenchPostgres,
  startMiniTwit,
} from "./harness";
import { HttpClient } from "./http-client";
import { type LatencySummary, latencyTable, type ServerReport, ServerSampler, summarize } from "./stats";
import { pickSubjects, type Subjects } from "./subjects";

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
  /** Adds session settings to the URL the server gets. */
  readonly withParams: (url: string) => string;
  /** Whom to read from: one side, or both in this many pairs (the simulator API's reads only). */
  readonly target: Side | { readonly compare: number };
}

interface Target {
  readonly label: string;
  readonly base: "web" | "api";
  readonly path: string;
  readonly cookie?: string;
}

/** Runs the reads; false when a request did not answer 200. */
export async function runTimelines(options: TimelinesOptions): Promise<boolean> {
  const pg = options.databaseUrl === null ? await startBenchPostgres(options.durable) : null;
  try {
    const url = options.databaseUrl ?? (await seededDatabase(pg as BenchPostgres, options.users, options.messages));
    const s = await pickSubjects(url);
    const serve = (side: Side) =>
      side === "MiniTwit"
        ? startMiniTwit({ ...options, databaseUrl: options.withParams(url) })
        : startBareServer(options.withParams(url), { poolMax: options.poolMax });
    const target = options.target;
    if (typeof target === "object") {
      return await comparePairs(target.compare, options.json, async (side) => {
        const measured = await withServer(serve(side), (server) => measure(server, apiTargets(s), pg, options));
        return { figures: readFigures(measured), errors: measured.failed, errorSamples: [], report: measured };
      });
    }
    return await withServer(serve(target), async (server) => {
      const targets =
        target === "yardstick"
          ? apiTargets(s)
          : [...pageTargets(s), ...apiTargets(s), ...(await homeTargets(server.web, s))];
      const measured = await measure(server, targets, pg, options);
      if (options.json) {
        console.log(JSON.stringify({ subjects: s, startupMs: server.startupMs, ...measured }, null, 2));
      } else printReads(measured, options);
      return measured.failed === 0;
    });
  } finally {
    await pg?.stop();
  }
}

async function withServer<T>(starting: Promise<BenchServer>, use: (server: BenchServer) => Promise<T>): Promise<T> {
  const server = await starting;
  try {
    return await use(server);
  } finally {
    await server.stop();
    removeDir(server.dataDir);
  }
}

const before = (cursor: number | null) => (cursor === null ? "" : `?before=${cursor}`);

/** The web timelines that need no session: the public one and the busiest author's. */
function pageTargets(s: Subjects): Target[] {
  const author = `/${encodeURIComponent(s.author.username)}`;
  return [
    { label: "GET /public", base: "web", path: "/public" },
    { label: "GET /public page 1,000", base: "web", path: `/public${before(s.publicPage1000Before)}` },
    { label: `GET /<user> (${s.author.messages} msgs)`, base: "web", path: author },
    { label: "GET /<user> page 1,000", base: "web", path: `${author}${before(s.authorPage1000Before)}` },
  ];
}

/** The simulator API's reads, which the yardstick serves too. */
function apiTargets(s: Subjects): Target[] {
  return [
    { label: "GET /msgs?no=100", base: "api", path: "/msgs?no=100" },
    { label: "GET /msgs/<user>?no=100", base: "api", path: `/msgs/${encodeURIComponent(s.author.username)}?no=100` },
    {
      label: "GET /fllws/<user>?no=100",
      base: "api",
      path: `/fllws/${encodeURIComponent(s.follower500.username)}?no=100`,
    },
  ];
}

/** "My timeline" of users following about 500, the most, and about 5 accounts. */
async function homeTargets(web: string, s: Subjects): Promise<Target[]> {
  const cookieOf500 = await signIn(web, s.follower500.username);
  const n500 = s.follower500.follows;
  return [
    { label: `GET / (${n500} follows)`, base: "web", path: "/", cookie: cookieOf500 },
    {
      label: `GET / (${n500} follows) page 1,000`,
      base: "web",
      path: `/${before(s.follower500.page1000Before)}`,
      cookie: cookieOf500,
    },
    {
      label: `GET / (${s.heaviestFollower.follows} follows)`,
      base: "web",
      path: "/",
      cookie: await signIn(web, s.heaviestFollower.username),
    },
    {
      label: `GET / (${s.follower5.follows} follows)`,
      base: "web",
      path: "/",
      cookie: await signIn(web, s.follower5.username),
    },
  ];
}

interface Measured {
  readonly results: Record<string, Row>;
  readonly server: ServerReport;
  /** Requests that did not answer 200, over all targets. */
  readonly failed: number;
}

/** Each target in turn, with the CPU each request costs the server and PostgreSQL, and the server's peak RSS. */
async function measure(
  server: BenchServer,
  targets: readonly Target[],
  pg: BenchPostgres | null,
  options: TimelinesOptions,
): Promise<Measured> {
  const sampler = new ServerSampler(server.pid);
  const results: Record<string, Row> = {};
  let failed = 0;
  for (const target of targets) {
    const origin = target.base === "web" ? server.web : server.api;
    const headers = target.base === "api" ? `Authorization: Basic ${server.token}\r\n` : (target.cookie ?? "");
    // CPU per request, of the server and of PostgreSQL: what each page costs whatever else the machine runs.
    const cpu = new ServerSampler(server.pid);
    const pgBefore = pg?.cpuSeconds() ?? 0;
    const { failed: missed, ...measured } = await load(origin, target, headers, options.requests, options.concurrency);
    if (missed > 0) console.error(`${target.label}: ${missed} of ${options.requests} requests did not answer 200`);
    failed += missed;
    const perRequest = (seconds: number) => Math.round((seconds / options.requests) * 1e6);
    results[target.label] = {
      ...measured,
      serverCpuUs: perRequest(cpu.stop().cpuSeconds),
      postgresCpuUs: perRequest((pg?.cpuSeconds() ?? 0) - pgBefore),
    };
  }
  return { results, server: sampler.stop(), failed };
}

function printReads({ results, server }: Measured, options: TimelinesOptions): void {
  console.log(
    `${options.messages} messages, ${options.users} users; ${options.requests} requests per row, ${options.concurrency} clients, keep-alive`,
  );
  console.log(latencyTable(results));
  for (const [label, r] of Object.entries(results)) {
    console.log(
      `${label}: ${r.requestsPerSecond} req/s; CPU per request: server ${r.serverCpuUs} µs, PostgreSQL ${r.postgresCpuUs} µs`,
    );
  }
  console.log(`server: peak RSS (VmHWM) ${server.peakRssMb} MB, largest sampled RSS ${server.sampledMaxRssMb} MB`);
}

/** Per read: requests/s, p99, the CPU per request of the server and PostgreSQL; and the server's peak RSS. */
function readFigures({ results, server }: Measured): Figures {
  const figures: Record<string, number> = {};
  for (const [label, r] of Object.entries(results)) {
    figures[`${label} req/s`] = r.requestsPerSecond;
    figures[`${label} p99 ms`] = r.p99;
    figures[`${label} server CPU µs/request`] = r.serverCpuUs;
    figures[`${label} PostgreSQL CPU µs/request`] = r.postgresCpuUs;
  }
  figures["peak RSS MB"] = server.peakRssMb;
  return figures;
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

async function load(
  origin: string,
  target: Target,
  headers: string,
  requests: number,
  concurrency: number,
): Promise<LatencySummary & { requestsPerSecond: number; failed: number }> {
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
  return { ...summarize(times), requestsPerSecond: Math.round(times.length / seconds), failed };
}
