// Everything MiniTwit tells Prometheus, in one registry per running server
// (not prom-client's global one, so tests can run several servers in one
// process). Request metrics are fed by the HTTP layer, the business counters
// by the handlers that succeed; gauges are computed when scraped.
import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { Database } from "../database/open";
import { liveRowEstimates, type TableSizes } from "../database/table-sizes";
import type { LatestTracker } from "../http/api/latest-action";
import type { Drain } from "../http/middleware/drain";
import { readLatest } from "../store/latest-action";
import { moderationCounts } from "../store/moderation";
import type { Logger } from "./log";
import { RequestMetrics } from "./request-metrics";

// The simulator gives up after 0.3 s, so buckets are dense around it.
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5, 5, 10];

// How long a read of the row statistics is reused. /metrics is public on the
// web port; the cache bounds what anyone scraping it in a loop costs the database.
const TABLE_SIZES_MAX_AGE_MS = 15_000;

export interface MetricSources {
  readonly database: Database;
  readonly latest: LatestTracker;
  readonly log: Logger;
  readonly drain: Drain;
}

export type Metrics = ReturnType<typeof createMetrics>;

export function createMetrics({ database, latest, log, drain }: MetricSources) {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry, prefix: "minitwit_" });
  const http = httpMetrics(registry);
  const business = businessCounters(registers);
  databaseGauges(database, log, registers);
  latestGauge(database, latest, registers);
  drainingGauge(drain, registers);
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

/** The pool's size, the tables' sizes and the moderation counts, read when scraped (cached). */
function databaseGauges(database: Database, log: Logger, registers: Registers): void {
  // postgres.js keeps its connection queues private, so only the configured
  // size is known here; busy connections show in pg_stat_activity.
  new Gauge({
    name: "minitwit_db_pool_size",
    help: "Connections the database pool may open (1 for the embedded database).",
    registers,
    collect() {
      this.set(database.poolStats().size);
    },
  });

  const sizes = cachedRead(() => liveRowEstimates(database.db), log, "table sizes");
  const tableGauge = (name: string, help: string, pick: (s: TableSizes) => number) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        const current = await sizes();
        if (current !== null) this.set(pick(current));
      },
    });
  tableGauge("minitwit_users", "Registered users (PostgreSQL's live-row statistic).", (s) => s.users);
  tableGauge("minitwit_messages", "Stored messages (PostgreSQL's live-row statistic).", (s) => s.messages);
  tableGauge("minitwit_follows", "Follow relations (PostgreSQL's live-row statistic).", (s) => s.followers);

  // Flags are set by `minitwit flag` in another process; the audit table they
  // write is the shared record, so the figure is read from it.
  const moderation = cachedRead(() => moderationCounts(database.db), log, "moderation counts");
  new Gauge({
    name: "minitwit_moderation_actions",
    help: "Moderation changes recorded so far (minitwit flag / unflag), by action.",
    labelNames: ["action"] as const,
    registers,
    async collect() {
      const counts = await moderation();
      if (counts === null) return;
      for (const [action, n] of Object.entries(counts)) this.set({ action }, n);
    },
  });
}

function drainingGauge(drain: Drain, registers: Registers): void {
  // 1 from SIGTERM until the process exits: a replica on its way out of the
  // pool, so its last scrapes are not read as a replica in trouble.
  new Gauge({
    name: "minitwit_draining",
    help: "1 while this replica drains before stopping (readiness failing, connections closing), else 0.",
    registers,
    collect() {
      this.set(drain.draining ? 1 : 0);
    },
  });
}

function latestGauge(database: Database, latest: LatestTracker, registers: Registers): void {
  new Gauge({
    name: "minitwit_latest_action_id",
    help: "The simulator's latest action id: the last one this replica stored, else the stored one; -1 when none.",
    registers,
    async collect() {
      // A primary-key read of a one-row table, and only until this replica
      // has stored a value itself.
      const value = latest.written() ?? (await readLatest(database.db).catch(() => null)) ?? -1;
      this.set(value);
    },
  });
}

/** A read reused for TABLE_SIZES_MAX_AGE_MS, one refresh at a time; null until the first success. */
function cachedRead<T>(read: () => Promise<T>, log: Logger, what: string): () => Promise<T | null> {
  let value: T | null = null;
  let readAt = Number.NEGATIVE_INFINITY;
  let reading: Promise<void> | null = null;
  const refresh = async () => {
    try {
      value = await read();
    } catch (err) {
      // Keep the previous figures; the scrape must not fail because of them.
      log.warn({ err }, `could not read ${what} for metrics`);
    } finally {
      readAt = performance.now();
      reading = null;
    }
  };
  return async () => {
    if (performance.now() - readAt >= TABLE_SIZES_MAX_AGE_MS) {
      reading ??= refresh();
      await reading;
    }
    return value;
  };
}
