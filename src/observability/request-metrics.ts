// The two request metrics every response feeds: a counter by method, route
// template and status, and a duration histogram by method and route. They are
// kept in plain maps and only turned into Prometheus's shape when scraped.
// prom-client's own inc() and observe() build, validate and hash a label
// object on every call; on the hot path that cost a few µs a request, more
// than everything else the observer does but the access line
// (docs/performance.md, "Layers"). What Prometheus reads is the same.
import type { Metric, Registry } from "prom-client";

/** One sample line, in the shape prom-client's registry formats. */
interface Sample {
  readonly metricName?: string;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
}

interface Series {
  readonly labels: { readonly method: string; readonly route: string };
  /** Requests answered, by status. */
  readonly statuses: Map<number, number>;
  /** Observations per bound, not yet cumulative; those above every bound only in `count` (+Inf). */
  readonly buckets: Float64Array;
  sum: number;
  count: number;
}

interface Described {
  readonly name: string;
  readonly help: string;
}

export class RequestMetrics {
  private readonly series = new Map<string, Series>();

  constructor(
    registry: Registry,
    private readonly bounds: readonly number[],
    counter: Described,
    histogram: Described,
  ) {
    this.register(registry, counter, "counter", () => this.counts());
    this.register(registry, histogram, "histogram", () => this.durations(histogram.name));
  }

  /** Records one answered request; `route` must be a template or a fixed placeholder. */
  observe(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route}`;
    let series = this.series.get(key);
    if (series === undefined) {
      series = {
        labels: { method, route },
        statuses: new Map(),
        buckets: new Float64Array(this.bounds.length),
        sum: 0,
        count: 0,
      };
      this.series.set(key, series);
    }
    series.statuses.set(status, (series.statuses.get(status) ?? 0) + 1);
    let bucket = 0;
    while (bucket < this.bounds.length && seconds > (this.bounds[bucket] as number)) bucket++;
    if (bucket < this.bounds.length) series.buckets[bucket] = (series.buckets[bucket] as number) + 1;
    series.sum += seconds;
    series.count++;
  }

  // The registry reads a metric through get() and empties it through
  // reset(), as it does prom-client's own.
  private register(registry: Registry, { name, help }: Described, type: string, values: () => Sample[]): void {
    const get = async () => ({ name, help, type, aggregator: "sum", values: values() });
    registry.registerMetric({ name, help, type, get, reset: () => this.series.clear() } as unknown as Metric);
  }

  private counts(): Sample[] {
    const values: Sample[] = [];
    for (const { labels, statuses } of this.series.values()) {
      for (const [status, n] of statuses) values.push({ labels: { ...labels, status: String(status) }, value: n });
    }
    return values;
  }

  private durations(name: string): Sample[] {
    const values: Sample[] = [];
    for (const { labels, buckets, sum, count } of this.series.values()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += buckets[i] as number;
        values.push({ metricName: `${name}_bucket`, labels: { le, ...labels }, value: cumulative });
      });
      values.push({ metricName: `${name}_bucket`, labels: { le: "+Inf", ...labels }, value: count });
      values.push({ metricName: `${name}_sum`, labels, value: sum });
      values.push({ metricName: `${name}_count`, labels, value: count });
    }
    return values;
  }
}
