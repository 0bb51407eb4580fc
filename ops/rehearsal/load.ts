// The rehearsal's bounded load: simulator writers and page/API readers
// through the stack's proxy, and the check that every acknowledged write is
// stored exactly once.
//
//   bun ops/rehearsal/load.ts run --out FILE [--writers 4] [--readers 2]
//       [--seconds 600] [--max-requests 200000] [--tag TAG]
//   bun ops/rehearsal/load.ts check --results FILE --stored FILE
//
// `run` stops at whichever comes first: --seconds, --max-requests, or
// SIGINT/SIGTERM (a scenario stops it once its action is over); then it waits
// for the requests in flight and writes FILE (JSON). Every request goes to
// REHEARSAL_URL (default https://127.0.0.1:443) with the site's name as Host
// and TLS server name (REHEARSAL_HOST, default localhost), verified against
// REHEARSAL_CA (Caddy's internal root) when given. The simulator credential
// is SIMULATOR_TOKEN (the base64 after "Basic ").
//
// `check` reads the texts stored in the database (one a line, as psql prints
// them) and compares them with the acknowledged ones: lost (acknowledged, not
// stored), duplicated (stored more than once), and failed-but-stored (a
// write whose answer was lost, e.g. in flight to a killed replica).
import { parseArgs } from "node:util";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: "string" },
    writers: { type: "string", default: "4" },
    readers: { type: "string", default: "2" },
    seconds: { type: "string", default: "600" },
    "max-requests": { type: "string", default: "200000" },
    tag: { type: "string", default: `rh${Date.now().toString(36)}` },
    results: { type: "string" },
    stored: { type: "string" },
  },
});

const base = process.env.REHEARSAL_URL ?? "https://127.0.0.1:443";
const host = process.env.REHEARSAL_HOST ?? "localhost";
const caFile = process.env.REHEARSAL_CA;
const auth = `Basic ${process.env.SIMULATOR_TOKEN ?? ""}`;
const REQUEST_TIMEOUT_MS = 15_000;

type Failure = { method: string; path: string; status: number; error: string; ms: number; at: number };
type Results = {
  tag: string;
  requests: number;
  failed: number;
  slowestMs: number;
  seconds: number;
  writesAcked: string[];
  writesFailed: string[];
  failures: Failure[];
};

const tls = caFile ? { ca: await Bun.file(caFile).text(), serverName: host } : { serverName: host };

async function request(method: string, path: string, body?: unknown) {
  const started = performance.now();
  try {
    const response = await fetch(new URL(path, base), {
      method,
      headers: {
        Host: host,
        Authorization: auth,
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: "manual",
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      tls,
    });
    const text = await response.text();
    return { status: response.status, text, ms: performance.now() - started, error: "" };
  } catch (error) {
    return { status: 0, text: "", ms: performance.now() - started, error: String(error) };
  }
}

async function run(): Promise<void> {
  const out = values.out ?? fail("run needs --out FILE");
  const writers = Number(values.writers);
  const readers = Number(values.readers);
  const maxRequests = Number(values["max-requests"]);
  const deadline = performance.now() + Number(values.seconds) * 1000;
  const tag = values.tag;
  const results: Results = {
    tag,
    requests: 0,
    failed: 0,
    slowestMs: 0,
    seconds: 0,
    writesAcked: [],
    writesFailed: [],
    failures: [],
  };
  let stopping = false;
  process.on("SIGINT", () => (stopping = true));
  process.on("SIGTERM", () => (stopping = true));
  const going = () => !stopping && performance.now() < deadline && results.requests < maxRequests;
  const started = performance.now();

  const count = (method: string, path: string, r: Awaited<ReturnType<typeof request>>, ok: boolean) => {
    results.requests++;
    results.slowestMs = Math.max(results.slowestMs, r.ms);
    if (ok) return;
    results.failed++;
    if (results.failures.length < 200) {
      const error = r.error || r.text.slice(0, 200);
      results.failures.push({ method, path, status: r.status, error, ms: Math.round(r.ms), at: Date.now() });
    }
  };

  // One user per writer, registered before the clock matters.
  const users = Array.from({ length: writers }, (_, i) => `${tag}-w${i}`);
  for (const user of users) {
    const r = await request("POST", "/api/register", {
      username: user,
      email: `${user}@example.org`,
      pwd: "rehearsal",
    });
    if (r.status !== 204) fail(`registering ${user}: ${r.status} ${r.error || r.text}`);
  }

  const writer = async (user: string) => {
    for (let n = 0; going(); n++) {
      const content = `${tag} ${user} ${n}`;
      const path = `/api/msgs/${encodeURIComponent(user)}`;
      const r = await request("POST", path, { content });
      const ok = r.status === 204;
      count("POST", path, r, ok);
      (ok ? results.writesAcked : results.writesFailed).push(content);
    }
  };
  const reader = async (i: number) => {
    const paths = ["/public", "/api/msgs?no=20", "/api/latest", `/${users[i % users.length]}`];
    for (let n = 0; going(); n++) {
      const path = paths[n % paths.length] as string;
      const r = await request("GET", path);
      count("GET", path, r, r.status === 200);
    }
  };
  await Promise.all([...users.map(writer), ...Array.from({ length: readers }, (_, i) => reader(i))]);
  results.seconds = Math.round((performance.now() - started) / 100) / 10;
  results.slowestMs = Math.round(results.slowestMs);
  await Bun.write(out, JSON.stringify(results));
}

async function check(): Promise<void> {
  const results = (await Bun.file(values.results ?? fail("check needs --results")).json()) as Results;
  const storedText = await Bun.file(values.stored ?? fail("check needs --stored")).text();
  const stored = new Map<string, number>();
  for (const line of storedText.split("\n")) if (line) stored.set(line, (stored.get(line) ?? 0) + 1);
  const lost = results.writesAcked.filter((t) => !stored.has(t));
  const duplicated = [...stored].filter(([, n]) => n > 1).map(([t]) => t);
  const failedButStored = results.writesFailed.filter((t) => stored.has(t));
  const summary = {
    requests: results.requests,
    failed: results.failed,
    slowestMs: results.slowestMs,
    seconds: results.seconds,
    acked: results.writesAcked.length,
    lost: lost.length,
    duplicated: duplicated.length,
    failedButStored: failedButStored.length,
    failedWrites: results.writesFailed.length,
    failedReads: results.failed - results.writesFailed.length,
    examples: { lost: lost.slice(0, 3), duplicated: duplicated.slice(0, 3), failures: results.failures.slice(0, 5) },
  };
  console.log(JSON.stringify(summary));
}

function fail(message: string): never {
  console.error(`load: ${message}`);
  process.exit(2);
}

if (positionals[0] === "run") await run();
else if (positionals[0] === "check") await check();
else fail("usage: load.ts run --out FILE ... | check --results FILE --stored FILE");
