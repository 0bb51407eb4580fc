// `bun run bench writes`: the server's CPU for one API write at steady state.
// The scenario is over in about 15 seconds, before the JIT compiler has
// finished with MiniTwit's code, and its 200 sign-ups (argon2id) weigh on
// every figure; this runs only tweets, follows and unfollows, in turn, after
// a warm-up, and splits the server's CPU by thread (the JavaScript thread,
// the JIT compiler, the garbage collector's helpers). With --compare it runs
// MiniTwit and the yardstick alternately, each on a fresh database.
import { readdirSync, readFileSync } from "node:fs";
import {
  type BenchPostgres,
  type BenchServer,
  type ServerOptions,
  startBareServer,
  startBenchPostgres,
  startMiniTwit,
} from "./harness";
import { HttpClient } from "./http-client";
import { median, statTicks } from "./stats";

export interface WritesOptions {
  readonly server: Omit<ServerOptions, "databaseUrl">;
  readonly durable: boolean;
  readonly requests: number;
  readonly warmup: number;
  readonly concurrency: number;
  /** Runs of each side; with `compare` they alternate, MiniTwit first. */
  readonly runs: number;
  readonly compare: boolean;
}

const USERS = 50;

/** CPU ticks of each of a process's threads, by thread name (numbered workers summed). */
export function threadTicks(pid: number): Map<string, number> {
  const ticks = new Map<string, number>();
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")).replace(/\d+$/, "");
      ticks.set(name, (ticks.get(name) ?? 0) + statTicks(stat));
    } catch {
      // the thread ended between listing and reading
    }
  }
  return ticks;
}

/** Sends `count` writes from `concurrency` keep-alive clients to `server.api`; returns how many did not answer 204. */
export async function sendWrites(
  server: Pick<BenchServer, "api">,
  headers: string,
  from: number,
  count: number,
  concurrency: number,
) {
  let next = from;
  let errors = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      const client = new HttpClient(server.api, true);
      while (next < from + count) {
        const k = next++;
        const who = `writer${k % USERS}`;
        const whom = `writer${(k * 7 + 3) % USERS}`;
        const [path, body] =
          k % 3 === 0
            ? [`/msgs/${who}`, { content: `message ${k} of the write benchmark` }]
            : [`/fllws/${who}`, k % 3 === 1 ? { follow: whom } : { unfollow: whom }];
        const res = await client.request("POST", `${path}?latest=${k}`, headers, JSON.stringify(body));
        if (res.status !== 204) errors++;
      }
      client.close();
    }),
  );
  return errors;
}

interface Run {
  readonly side: "MiniTwit" | "yardstick";
  readonly cpuUs: number;
  readonly threadsUs: Map<string, number>;
  readonly postgresUs: number;
  readonly errors: number;
}

async function runOnce(pg: BenchPostgres, side: Run["side"], index: number, options: WritesOptions): Promise<Run> {
  const url = await pg.createDatabase(`writes_${index}`);
  const server =
    side === "yardstick"
      ? await startBareServer(url, { hashPasswords: false, poolMax: options.server.poolMax })
      : await startMiniTwit({ ...options.server, databaseUrl: url });
  try {
    const auth = side === "yardstick" ? "" : `Authorization: Basic ${server.token}\r\n`;
    const headers = `${auth}Content-Type: application/json\r\n`;
    const setup = new HttpClient(server.api, true);
    for (let u = 0; u < USERS; u++) {
      const user = { username: `writer${u}`, email: `writer${u}@example.com`, pwd: "secret" };
      await setup.request("POST", "/register", headers, JSON.stringify(user));
    }
    setup.close();
    let errors = await sendWrites(server, headers, 0, options.warmup, options.concurrency);
    const [before, pgBefore] = [threadTicks(server.pid), pg.cpuSeconds()];
    errors += await sendWrites(server, headers, options.warmup, options.requests, options.concurrency);
    const [after, pgAfter] = [threadTicks(server.pid), pg.cpuSeconds()];
    // Clock ticks are 10 ms: µs per request = ticks * 10,000 / requests.
    const perRequest = (ticks: number) => Math.round((ticks * 10_000) / options.requests);
    const threadsUs = new Map([...after].map(([name, t]) => [name, perRequest(t - (before.get(name) ?? 0))]));
    const cpuUs = [...threadsUs.values()].reduce((a, b) => a + b, 0);
    return { side, cpuUs, threadsUs, postgresUs: Math.round(((pgAfter - pgBefore) * 1e6) / options.requests), errors };
  } finally {
    await server.stop();
    await pg.run(`drop database writes_${index}`);
  }
}

function runLine(run: Run): string {
  const threads = [...run.threadsUs]
    .filter(([, us]) => us > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([name, us]) => `${name} ${us}`)
    .join(", ");
  return `${run.side.padEnd(9)} server ${run.cpuUs} µs/write (${threads}); PostgreSQL ${run.postgresUs} µs/write; errors ${run.errors}`;
}

/** Prints each run and the medians; false when any write failed. */
export async function runWrites(options: WritesOptions): Promise<boolean> {
  const pg = await startBenchPostgres(options.durable);
  const runs: Run[] = [];
  try {
    const sides: Run["side"][] = options.compare ? ["MiniTwit", "yardstick"] : ["MiniTwit"];
    for (let i = 0; i < options.runs * sides.length; i++) {
      const run = await runOnce(pg, sides[i % sides.length] as Run["side"], i, options);
      console.log(runLine(run));
      runs.push(run);
    }
  } finally {
    await pg.stop();
  }
  console.log(
    `${options.requests} writes after ${options.warmup} to warm up, ${options.concurrency} clients; medians:`,
  );
  for (const side of new Set(runs.map((r) => r.side))) {
    const mine = runs.filter((r) => r.side === side);
    console.log(
      `  ${side}: server ${median(mine.map((r) => r.cpuUs))} µs/write, PostgreSQL ${median(mine.map((r) => r.postgresUs))} µs/write`,
    );
  }
  return runs.every((r) => r.errors === 0);
}
