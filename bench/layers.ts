// `bun run bench layers`: what each layer of the API port costs per write,
// over real HTTP, without PostgreSQL. The database is a stand-in that answers
// every statement at once (bench/layers-server.ts), so the server's CPU per
// write is the HTTP stack's alone, and the figures do not wander with
// PostgreSQL's. Each variant runs in its own process: Bun.serve with the same
// store calls, bare Elysia, Elysia with one of createApp's layers, and the
// whole API port; the variants alternate, round after round, so a drift of
// the machine weighs on all of them alike.
import type { Subprocess } from "bun";
import { DEFAULT_SIMULATOR_TOKEN } from "../src/config/settings";
import { LAYERS } from "./layers-server";
import { median } from "./stats";
import { sendWrites, threadTicks } from "./writes";

export interface LayersOptions {
  readonly requests: number;
  readonly warmup: number;
  readonly concurrency: number;
  readonly rounds: number;
}

const VARIANTS: readonly { readonly label: string; readonly arg: string }[] = [
  { label: "Bun.serve", arg: "bun" },
  { label: "Elysia", arg: "" },
  ...LAYERS.map((layer) => ({ label: `Elysia + ${layer}`, arg: layer })),
  { label: "the API port (createApp)", arg: "minitwit" },
];

const HEADERS = `Authorization: Basic ${DEFAULT_SIMULATOR_TOKEN}\r\nContent-Type: application/json\r\n`;

async function started(arg: string): Promise<{ child: Subprocess<"ignore", "ignore", "pipe">; api: string }> {
  const child = Bun.spawn([process.execPath, "bench/layers-server.ts", arg], {
    cwd: `${import.meta.dir}/..`,
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  let seen = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stderr) {
    seen += decoder.decode(chunk, { stream: true });
    const port = /PORT (\d+)/.exec(seen)?.[1];
    if (port !== undefined) return { child, api: `http://127.0.0.1:${port}` };
  }
  throw new Error(`bench/layers-server.ts ${arg} did not start:\n${seen}`);
}

/** Server CPU per write in µs, and the writes that did not answer 204. */
async function runOnce(arg: string, options: LayersOptions): Promise<{ cpuUs: number; errors: number }> {
  const { child, api } = await started(arg);
  try {
    const server = { api };
    let errors = await sendWrites(server, HEADERS, 0, options.warmup, options.concurrency);
    const sum = () => [...threadTicks(child.pid).values()].reduce((a, b) => a + b, 0);
    const before = sum();
    errors += await sendWrites(server, HEADERS, options.warmup, options.requests, options.concurrency);
    // Clock ticks are 10 ms: µs per write = ticks * 10,000 / writes.
    return { cpuUs: Math.round(((sum() - before) * 10_000) / options.requests), errors };
  } finally {
    child.kill();
    await child.exited;
  }
}

export async function runLayers(options: LayersOptions): Promise<boolean> {
  const results = new Map(VARIANTS.map((v) => [v.label, [] as number[]]));
  let errors = 0;
  for (let round = 1; round <= options.rounds; round++) {
    for (const variant of VARIANTS) {
      const run = await runOnce(variant.arg, options);
      results.get(variant.label)?.push(run.cpuUs);
      errors += run.errors;
    }
    console.error(`round ${round} of ${options.rounds} done`);
  }
  const elysia = median(results.get("Elysia") ?? []);
  console.log(
    `${options.requests} writes after ${options.warmup} to warm up, ${options.concurrency} clients, ` +
      `PostgreSQL replaced by a stand-in; server CPU per write, median of ${options.rounds} rounds:`,
  );
  for (const [label, runs] of results) {
    const m = median(runs);
    const delta =
      label === "Elysia" || label === "Bun.serve" ? "" : ` (Elysia ${m >= elysia ? "+" : "-"}${Math.abs(m - elysia)})`;
    console.log(`  ${label.padEnd(26)} ${String(m).padStart(4)} µs${delta}   runs: ${runs.join(", ")}`);
  }
  if (errors > 0) console.log(`${errors} writes did not answer 204`);
  return errors === 0;
}
