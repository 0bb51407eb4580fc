// The figures of `bun run bench --compare`: MiniTwit and the yardstick
// (bench/bare-server.ts) measured in pairs, and per figure the ratio
// MiniTwit / yardstick of each pair and its median over the pairs. Absolute
// figures drift with whatever else the machine runs; a ratio of two runs
// made back to back much less, and alternating which side runs first in
// each pair cancels a drift within the sitting.
import { median, table } from "./stats";

export type Side = "MiniTwit" | "yardstick";

/** One run's figures by name ("req/s", "p99 tweet ms", "peak RSS MB", ...). */
export type Figures = Readonly<Record<string, number>>;

export interface Pair {
  /** Which side ran first. */
  readonly order: readonly [Side, Side];
  readonly minitwit: Figures;
  readonly yardstick: Figures;
  /** Requests that did not get the expected answer, per side. */
  readonly errors: Readonly<Record<Side, number>>;
}

/** MiniTwit first in even pairs, the yardstick first in odd ones. */
export function orderOf(index: number): [Side, Side] {
  return index % 2 === 0 ? ["MiniTwit", "yardstick"] : ["yardstick", "MiniTwit"];
}

/** MiniTwit / yardstick for every figure both sides have, and the yardstick's is not 0. */
export function ratios(pair: Pair): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(pair.minitwit)) {
    const base = pair.yardstick[name];
    if (base !== undefined && base !== 0) out[name] = round(value / base, 3);
  }
  return out;
}

/** Per figure, the median of the pairs' ratios (figures missing from a pair are left out of its median). */
export function medianRatios(pairs: readonly Pair[]): Record<string, number> {
  const each = pairs.map(ratios);
  const names = [...new Set(each.flatMap((r) => Object.keys(r)))];
  return Object.fromEntries(
    names.map((name) => [name, round(median(each.flatMap((r) => (name in r ? [r[name] as number] : []))), 3)]),
  );
}

export function totalErrors(pairs: readonly Pair[]): Record<Side, number> {
  const sum = (side: Side) => pairs.reduce((n, p) => n + p.errors[side], 0);
  return { MiniTwit: sum("MiniTwit"), yardstick: sum("yardstick") };
}

/** One pair as a table: each figure of both sides and their ratio. */
export function formatPair(index: number, pair: Pair): string {
  const r = ratios(pair);
  const rows = Object.keys(pair.minitwit).map((name) => [
    name,
    show(pair.minitwit[name]),
    show(pair.yardstick[name]),
    name in r ? (r[name] as number).toFixed(3) : "",
  ]);
  const errors = `errors: MiniTwit ${pair.errors.MiniTwit}, yardstick ${pair.errors.yardstick}`;
  return [
    `pair ${index + 1} (${pair.order.join(" first, then ")}); ${errors}`,
    table(["figure", "MiniTwit", "yardstick", "ratio"], rows),
  ].join("\n");
}

/** The summary: each figure's median ratio, then the ratios it is the median of. */
export function formatMedians(pairs: readonly Pair[]): string {
  const each = pairs.map(ratios);
  const rows = Object.entries(medianRatios(pairs)).map(([name, m]) => [
    name,
    m.toFixed(3),
    each.map((r) => (name in r ? (r[name] as number).toFixed(3) : "-")).join(" "),
  ]);
  const errors = totalErrors(pairs);
  return [
    `median ratio MiniTwit / yardstick over ${pairs.length} pairs (above 1: MiniTwit has more; ` +
      "for req/s higher is better, for the others lower is)",
    table(["figure", "median", "pairs"], rows),
    `errors in all pairs: MiniTwit ${errors.MiniTwit}, yardstick ${errors.yardstick}`,
  ].join("\n");
}

function show(value: number | undefined): string {
  return value === undefined ? "" : String(value);
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
