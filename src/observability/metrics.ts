// Everything MiniTwit tells Prometheus, in one registry per running server
// (not prom-client's global one, so tests can run several servers in one
// process). Request metrics are fed by the HTTP layer, the business counters
// by the handlers that succeed; gauges are computed when scraped. The gauges
// that read the database are added by the monitoring surface
// (src/http/monitoring/gauges.ts), which is the layer that knows the store.
import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import { REVISION, VERSION } from "../version";
import { RequestMetrics } from "./request-metrics";

// The simulator gives up after 0.3 s, so buckets are dense around it.
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5, 5, 10];

export type Metrics = ReturnType<typeof createMetrics>;

/** The registry with the process, request and business metrics; `isDraining` feeds minitwit_draining. */
export function createMetrics(isDraining: () => boolean) {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry, prefix: "minitwit_" });
  const http = httpMetrics(registry);
  const business = businessCounters(registers);
  drainingGauge(isDraining, registers);
  // Which release each replica runs, for a deploy or a rollback to be read
  // from Prometheus: count by (version) (minitwit_build_info).
  new Gauge({
    name: "minitwit_build_info",
    help: "1, labelled with the running binary's version and revision.",
    labelNames: ["version", "revision"] as const,
    registers,
  }).set({ version: VERSION, revision: REVISION }, 1);
  return {
    registry,
    ...business,
    /** Records one answered request; `route` must be a template or a fixed placeholder. */
    observeRequest: http.observe.bind(http),
    /** The exposition text for /metrics. */
    text: () => registry.metrics(),
    contentType: registry.contentType,
  };
}

type Registers = Registry[];

function httpMetrics(registry: Registry) {
  return new RequestMetrics(
    registry,
    DURATION_BUCKETS,
    { name: "http_requests_total", help: "HTTP responses sent, by method, route template and status." },
    {
      name: "http_request_duration_seconds",
      help: "Time from receiving a request to having its response, by method and route template.",
    },
  );
}

function businessCounters(registers: Registers) {
  const counter = (name: string, help: string) => new Counter({ name, help, registers });
  return {
    registrations: counter("minitwit_registrations_total", "Users registered (API and web sign-up)."),
    messagesPosted: counter("minitwit_messages_posted_total", "Messages stored (API and web)."),
    follows: counter("minitwit_follows_total", "Follow requests that succeeded (API and web)."),
    unfollows: counter("minitwit_unfollows_total", "Unfollow requests that succeeded (API and web)."),
    // Refusals, so a wrong SIMULATOR_ALLOW or a too tight limit shows at once.
    allowListRefused: counter("minitwit_allowlist_refused_total", "API requests refused by SIMULATOR_ALLOW."),
    rateLimited: counter("minitwit_rate_limited_total", "Requests refused by the per-client rate limit."),
  };
}

function drainingGauge(isDraining: () => boolean, registers: Registers): void {
  // 1 from SIGTERM until the process exits: a replica on its way out of the
  // pool, so its last scrapes are not read as a replica in trouble.
  new Gauge({
    name: "minitwit_draining",
    help: "1 while this replica drains before stopping (readiness failing, connections closing), else 0.",
    registers,
    collect() {
      this.set(isDraining() ? 1 : 0);
    },
  });
}
