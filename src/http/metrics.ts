// GET /metrics on both ports: the Prometheus exposition of this process. The
// registry holds request metrics from observe.ts, the business counters and
// the gauges computed at scrape time (src/metrics.ts). Prometheus scrapes only
// the web port of each replica; the API port answers the same text, for a
// deployment that exposes only that port to the monitor.
import { Elysia } from "elysia";
import type { Metrics } from "../metrics";

export function metricsRoute(metrics: Metrics) {
  return new Elysia({ name: "metrics-route" }).get(
    "/metrics",
    async () =>
      new Response(await metrics.text(), {
        headers: { "content-type": metrics.contentType, "cache-control": "no-store" },
      }),
  );
}
