// Latency summaries and the server's memory, for the benchmark reports.
import { readFileSync } from "node:fs";

export interface LatencySummary {
  readonly count: number;
  /** Milliseconds. */
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/** Latencies in milliseconds, grouped by a label (a command, a route). */
export class Latencies {
  private readonly samples = new Map<string, number[]>();

  add(label: string, ms: number): void {
    const list = this.samples.get(label);
    if (list === undefined) this.samples.set(label, [ms]);
    else list.push(ms);
  }

  /** Every label's summary, plus "all" over every sample. */
  summaries(): Record<string, LatencySummary> {
    const out: Record<string, LatencySummary> = {};
    const all: number[] = [];
    for (const [label, list] of [...this.samples].sort(([a], [b]) => a.localeCompare(b))) {
      out[label] = summarize(list);
      all.push(...list);
    }
    out.all = summarize(all);
    return out;
  }
}

export function summarize(values: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  // Nearest rank: the smallest value with at least p% of the samples at or below it.
  const at = (p: number) =>
    sorted.length === 0 ? 0 : (sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0);
  return {
    count: sorted.length,
    p50: round(at(50)),
    p95: round(at(95)),
    p99: round(at(99)),
    max: round(sorted.at(-1) ?? 0),
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

export interface ServerReport {
  /** VmHWM: the process's peak resident set since it started, MB. */
  readonly peakRssMb: number;
  /** The largest VmRSS seen while sampling, MB. */
  readonly sampledMaxRssMb: number;
  /** CPU time (user + system, all threads) the server spent while sampled, seconds. */
  readonly cpuSeconds: number;
}

/**
 * Samples /proc/<pid>/status while a benchmark runs (Linux only), and the
 * server's CPU time: unlike wall-clock figures, CPU per request does not
 * depend on what else the machine is doing.
 */
export class ServerSampler {
  private maxRssKb = 0;
  private peakKb = 0;
  private readonly cpuAtStart: number;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly pid: number,
    everyMs = 50,
  ) {
    this.sample();
    this.cpuAtStart = cpuTicks(pid);
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  stop(): ServerReport {
    clearInterval(this.timer);
    this.sample();
    const cpuSeconds = (cpuTicks(this.pid) - this.cpuAtStart) / CLOCK_TICKS_PER_SECOND;
    return { peakRssMb: mb(this.peakKb), sampledMaxRssMb: mb(this.maxRssKb), cpuSeconds };
  }

  private sample(): void {
    const status = readStatus(this.pid);
    if (status === null) return;
    this.maxRssKb = Math.max(this.maxRssKb, status.rssKb);
    this.peakKb = Math.max(this.peakKb, status.hwmKb);
  }
}

export function readStatus(pid: number): { rssKb: number; hwmKb: number } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return null; // the process has gone, or this is not Linux
  }
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0);
  return { rssKb: field("VmRSS"), hwmKb: field("VmHWM") };
}

// USER_HZ: 100 on every Linux architecture Bun runs on.
export const CLOCK_TICKS_PER_SECOND = 100;

/** utime + stime of a process, in clock ticks; 0 when it cannot be read. */
export function cpuTicks(pid: number): number {
  try {
    return statTicks(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return 0;
  }
}

/** utime + stime from the text of a /proc stat file (a process's or one of its threads'). */
export function statTicks(stat: string): number {
  // Fields after the command name (which may hold spaces) start at ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

function mb(kb: number): number {
  return Math.round(kb / 102.4) / 10;
}

/** A fixed-width table of latency summaries, for terminal reports. */
export function latencyTable(summaries: Record<string, LatencySummary>): string {
  const rows = Object.entries(summaries).map(([label, s]) => [
    label,
    String(s.count),
    s.p50.toFixed(2),
    s.p95.toFixed(2),
    s.p99.toFixed(2),
    s.max.toFixed(2),
  ]);
  return table(["request", "count", "p50 ms", "p95 ms", "p99 ms", "max ms"], rows);
}

/** A fixed-width table: the first column left-aligned, the others right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

/** The middle value (the mean of the two middle ones for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
