#!/usr/bin/env bun
// Replays the simulator's scenario against a running MiniTwit with several
// concurrent clients and reports errors, throughput, latency per command and
// the server's memory. Usage: bun bench/replay.ts --help
import { parseArgs } from "node:util";
import { DEFAULT_SIMULATOR_TOKEN } from "../src/config/settings";
import { prng } from "../src/seed/data";
import { type Action, loadScenario, toRequest } from "../tests/support/scenario";
import { HttpClient } from "./http-client";
import { ScenarioSchedule } from "./schedule";
import { Latencies, type LatencySummary, latencyTable, type ServerReport, ServerSampler } from "./stats";

export const USAGE = `Usage: bun bench/replay.ts [options]

Replays tests/fixtures/minitwit_scenario.csv against a running MiniTwit.
Each actor's rows keep their order and every follow or unfollow waits for
its target's registration; everything else runs concurrently.

Options:
  --url URL            the simulator API (default http://127.0.0.1:5001)
  --web-url URL        the web port, for --reads (default http://127.0.0.1:5000)
  --concurrency N      concurrent clients (default 16)
  --rows N             replay only the first N rows (default: all)
  --close              a new connection per request with Connection: close,
                       as the simulator connects (default: keep-alive)
  --reads RATIO        extra reads per write (e.g. 0.5): GET /msgs, /msgs/<user>,
                       /fllws/<user> on the API, /public and /<user> on the web port
  --pid PID            the server's process id: report its peak memory
  --token BASE64       the simulator credential (default: the course's)
  --json               print the report as JSON`;

/** The simulator gives up on a request after this long. */
const SIMULATOR_TIMEOUT_MS = 300;

export interface ReplayOptions {
  readonly url: string;
  readonly webUrl: string;
  readonly concurrency: number;
  readonly rows: number;
  readonly close: boolean;
  readonly reads: number;
  /** Whether the reads include the web pages; the yardstick has only the API. */
  readonly webReads: boolean;
  readonly pid: number | null;
  readonly token: string;
}

export interface ReplayReport {
  readonly rows: number;
  readonly concurrency: number;
  readonly connection: "keep-alive" | "close";
  readonly requests: number;
  readonly errors: number;
  /** The first few errors, "<row> <command>: <status> <body>". */
  readonly errorSamples: readonly string[];
  /** Answers slower than the simulator's timeout (they would count against it). */
  readonly slowerThanSimulatorTimeout: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  /** Per command (register, tweet, follow, unfollow, read routes) and "all". */
  readonly latency: Record<string, LatencySummary>;
  readonly server: ServerReport | null;
  /** CPU the replaying client itself used, seconds (it shares the machine). */
  readonly clientCpuSeconds: number;
}

export const DEFAULTS: ReplayOptions = {
  url: "http://127.0.0.1:5001",
  webUrl: "http://127.0.0.1:5000",
  concurrency: 16,
  rows: Number.POSITIVE_INFINITY,
  close: false,
  reads: 0,
  webReads: true,
  pid: null,
  token: DEFAULT_SIMULATOR_TOKEN,
};

type Read = { label: string; web: boolean; path: (user: string) => string };

const READS: readonly Read[] = [
  { label: "GET /msgs", web: false, path: () => "/msgs?no=100" },
  { label: "GET /msgs/<user>", web: false, path: (u) => `/msgs/${encodeURIComponent(u)}` },
  { label: "GET /fllws/<user>", web: false, path: (u) => `/fllws/${encodeURIComponent(u)}` },
  { label: "GET /public (web)", web: true, path: () => "/public" },
  { label: "GET /<user> (web)", web: true, path: (u) => `/${encodeURIComponent(u)}` },
];

export async function replay(options: ReplayOptions, actions?: readonly Action[]): Promise<ReplayReport> {
  const scenario = actions ?? (await loadScenario(options.rows));
  const schedule = new ScenarioSchedule(scenario);
  const latencies = new Latencies();
  const errorSamples: string[] = [];
  const seenRegister = new Set<string>();
  const random = prng(1);
  const headers = `Content-Type: application/json\r\nAuthorization: Basic ${options.token}\r\n`;
  let errors = 0;
  let slow = 0;
  let requests = 0;
  let readTurn = 0;
  const reads = options.webReads ? READS : READS.filter((r) => !r.web);

  const record = (label: string, ms: number, ok: boolean, detail: () => string) => {
    requests++;
    latencies.add(label, ms);
    if (ms > SIMULATOR_TIMEOUT_MS) slow++;
    if (!ok) {
      errors++;
      if (errorSamples.length < 10) errorSamples.push(detail());
    }
  };

  const client = async () => {
    const api = new HttpClient(options.url, !options.close);
    const web = new HttpClient(options.webUrl, !options.close);
    let readCredit = 0;
    try {
      while (!schedule.finished) {
        const action = schedule.take();
        if (action === null) {
          await schedule.progress();
          continue;
        }
        // The simulator accepts 204, and 400 for a repeated registration.
        const repeated = action.command === "register" && seenRegister.has(action.user);
        if (action.command === "register") seenRegister.add(action.user);
        const expected = repeated ? 400 : 204;
        const { path, body } = toRequest(action);
        const started = performance.now();
        const outcome = await api.request("POST", path, headers, JSON.stringify(body)).then(
          (r) => ({ status: r.status, text: () => r.body.toString().slice(0, 200) }),
          (e: Error) => ({ status: 0, text: () => e.message }),
        );
        record(action.command, performance.now() - started, outcome.status === expected, () => {
          return `${action.id} ${action.command}: ${outcome.status} ${outcome.text()}`;
        });
        schedule.complete(action);

        readCredit += options.reads;
        while (readCredit >= 1) {
          readCredit--;
          const users = [...schedule.registeredUsers()];
          if (users.length === 0) break;
          const user = users[Math.floor(random() * users.length)] as string;
          const read = reads[readTurn++ % reads.length] as Read;
          const begun = performance.now();
          const result = await (read.web ? web : api).request("GET", read.path(user), headers).then(
            (r) => ({ status: r.status, text: () => r.body.toString().slice(0, 200) }),
            (e: Error) => ({ status: 0, text: () => e.message }),
          );
          record(read.label, performance.now() - begun, result.status === 200, () => {
            return `${read.label} ${user}: ${result.status} ${result.text()}`;
          });
        }
      }
    } finally {
      api.close();
      web.close();
    }
  };

  const memory = options.pid === null ? null : new ServerSampler(options.pid);
  const started = performance.now();
  const clientCpu = process.cpuUsage();
  await Promise.all(Array.from({ length: options.concurrency }, client));
  const seconds = (performance.now() - started) / 1000;
  return {
    rows: scenario.length,
    concurrency: options.concurrency,
    connection: options.close ? "close" : "keep-alive",
    requests,
    errors,
    errorSamples,
    slowerThanSimulatorTimeout: slow,
    seconds: Math.round(seconds * 1000) / 1000,
    requestsPerSecond: Math.round(requests / seconds),
    latency: latencies.summaries(),
    server: memory?.stop() ?? null,
    clientCpuSeconds: cpuSeconds(process.cpuUsage(clientCpu)),
  };
}

function cpuSeconds(usage: NodeJS.CpuUsage): number {
  return Math.round((usage.user + usage.system) / 1e4) / 100;
}

export function formatReport(report: ReplayReport): string {
  const lines = [
    `${report.rows} rows, ${report.concurrency} clients, ${report.connection}: ` +
      `${report.requests} requests in ${report.seconds} s = ${report.requestsPerSecond} req/s`,
    `errors: ${report.errors}; slower than the simulator's ${SIMULATOR_TIMEOUT_MS} ms timeout: ${report.slowerThanSimulatorTimeout}`,
    ...report.errorSamples.map((e) => `  ${e}`),
    latencyTable(report.latency),
  ];
  lines.push(`client CPU ${report.clientCpuSeconds} s`);
  if (report.server !== null) {
    lines.push(
      `server: peak RSS (VmHWM) ${report.server.peakRssMb} MB, largest sampled RSS ${report.server.sampledMaxRssMb} MB, ` +
        `CPU ${report.server.cpuSeconds} s = ${Math.round((report.server.cpuSeconds / report.requests) * 1e6)} µs per request`,
    );
  }
  return lines.join("\n");
}

/** Options from the command line; throws with the usage on a bad flag. */
export function parseReplayArgs(argv: string[]): ReplayOptions & { json: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: "string" },
      "web-url": { type: "string" },
      concurrency: { type: "string" },
      rows: { type: "string" },
      close: { type: "boolean" },
      reads: { type: "string" },
      pid: { type: "string" },
      token: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) throw new Error(USAGE);
  return {
    url: values.url ?? DEFAULTS.url,
    webUrl: values["web-url"] ?? DEFAULTS.webUrl,
    concurrency: whole(values.concurrency, "--concurrency") ?? DEFAULTS.concurrency,
    rows: whole(values.rows, "--rows") ?? DEFAULTS.rows,
    close: values.close === true,
    reads: ratio(values.reads),
    webReads: true,
    pid: whole(values.pid, "--pid") ?? null,
    token: values.token ?? DEFAULTS.token,
    json: values.json === true,
  };
}

function whole(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new Error(`${flag} must be a whole number of at least 1\n\n${USAGE}`);
  return Number(value);
}

function ratio(value: string | undefined): number {
  if (value === undefined) return 0;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || value.trim() === "")
    throw new Error(`--reads must be a number of at least 0\n\n${USAGE}`);
  return n;
}

if (import.meta.main) {
  let options: ReturnType<typeof parseReplayArgs>;
  try {
    options = parseReplayArgs(process.argv.slice(2));
  } catch (err) {
    const message = (err as Error).message;
    const asked = message === USAGE;
    (asked ? console.log : console.error)(message);
    process.exit(asked ? 0 : 2);
  }
  const report = await replay(options);
  console.log(options.json ? JSON.stringify(report, null, 2) : formatReport(report));
  process.exitCode = report.errors === 0 ? 0 : 1;
}
