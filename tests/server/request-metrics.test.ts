// The request counter and duration histogram, kept outside prom-client's
// metric classes: what a scrape reads must be what prom-client's own Counter
// and Histogram would expose for the same requests, and promtool must accept it.
import { describe, expect, test } from "bun:test";
import { Counter, Histogram, Registry } from "prom-client";
import { RequestMetrics } from "../../src/observability/request-metrics";
import { parseExposition } from "../support/scrape";

const BOUNDS = [0.005, 0.01, 0.1, 1];
const COUNTER = { name: "http_requests_total", help: "Responses." };
const HISTOGRAM = { name: "http_request_duration_seconds", help: "Durations." };

type Observation = [method: string, route: string, status: number, seconds: number];

const cases: [name: string, observations: Observation[]][] = [
  ["nothing observed", []],
  ["one request", [["POST", "/msgs/:username", 204, 0.002]]],
  [
    "on a bound, above every bound, several statuses of one route",
    [
      ["POST", "/fllws/:username", 204, 0.005],
      ["POST", "/fllws/:username", 404, 0.0051],
      ["POST", "/fllws/:username", 204, 3],
      ["GET", "/msgs", 200, 0.05],
      ["GET", "unmatched", 404, 0],
    ],
  ],
];

/** The same observations through prom-client's own classes: the reference. */
async function reference(observations: readonly Observation[]): Promise<string> {
  const registry = new Registry();
  const labelNames = ["method", "route", "status"] as const;
  const counter = new Counter({ ...COUNTER, labelNames, registers: [registry] });
  const histogram = new Histogram({
    ...HISTOGRAM,
    labelNames: ["method", "route"],
    buckets: BOUNDS,
    registers: [registry],
  });
  for (const [method, route, status, seconds] of observations) {
    counter.inc({ method, route, status: String(status) });
    histogram.observe({ method, route }, seconds);
  }
  return registry.metrics();
}

async function ours(observations: readonly Observation[]): Promise<{ registry: Registry; text: string }> {
  const registry = new Registry();
  const metrics = new RequestMetrics(registry, BOUNDS, COUNTER, HISTOGRAM);
  for (const [method, route, status, seconds] of observations) metrics.observe(method, route, status, seconds);
  return { registry, text: await registry.metrics() };
}

describe("a scrape reads what prom-client's Counter and Histogram would expose", () => {
  test.each(cases)("%s", async (_, observations) => {
    const { text } = await ours(observations);
    expect(text).toBe(await reference(observations));
    // And the samples say what was observed, not merely the same as the reference.
    const samples = parseExposition(text);
    const total = samples.filter((s) => s.name === COUNTER.name).reduce((sum, s) => sum + s.value, 0);
    expect(total).toBe(observations.length);
  });
});

test("durations land in cumulative buckets, +Inf holding them all", async () => {
  const { text } = await ours([
    ["GET", "/msgs", 200, 0.001],
    ["GET", "/msgs", 200, 0.01],
    ["GET", "/msgs", 200, 0.5],
    ["GET", "/msgs", 200, 2],
  ]);
  const buckets = parseExposition(text)
    .filter((s) => s.name === `${HISTOGRAM.name}_bucket`)
    .map((s) => [s.labels.le, s.value]);
  expect(buckets).toEqual([
    ["0.005", 1],
    ["0.01", 2],
    ["0.1", 2],
    ["1", 3],
    ["+Inf", 4],
  ]);
});

test("resetting the registry empties both metrics", async () => {
  const { registry } = await ours([["GET", "/msgs", 200, 0.001]]);
  registry.resetMetrics();
  expect(await registry.metrics()).toBe(await reference([]));
});

test("promtool accepts the exposition", async () => {
  const { text } = await ours(cases[2]?.[1] ?? []);
  const proc = Bun.spawnSync(["promtool", "check", "metrics"], { stdin: new TextEncoder().encode(text) });
  expect({ exit: proc.exitCode, out: `${proc.stdout}${proc.stderr}` }).toEqual({ exit: 0, out: "" });
});
