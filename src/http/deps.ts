// What the HTTP surfaces need, built once by `serve` and passed to createApp.
import type { Config } from "../config/settings";
import type { Database } from "../database/open";
import type { Logger } from "../observability/log";
import { createMetrics, type Metrics } from "../observability/metrics";
import { LatestActionTracker } from "./latest-action";
import { Drain } from "./middleware/drain";
import { registerDatabaseGauges } from "./monitoring/gauges";

export interface AppDeps {
  readonly config: Config;
  readonly database: Database;
  /** The simulator's latest action id (the `latest` query parameter), written behind requests. */
  readonly latest: LatestActionTracker;
  readonly log: Logger;
  /** The process's Prometheus registry and the counters handlers increment. */
  readonly metrics: Metrics;
  /** Set when the replica is stopping: /readyz fails and connections close. */
  readonly drain: Drain;
  /** Current time in unix seconds; replaceable in tests. */
  readonly now?: () => number;
}

/** The dependencies of one process's surfaces, on an open database. */
export function appDeps(config: Config, database: Database, log: Logger, now?: () => number): AppDeps {
  const latest = new LatestActionTracker(database.db, log);
  const drain = new Drain();
  const metrics = createMetrics(() => drain.draining);
  registerDatabaseGauges(metrics.registry, { database, latest, log });
  return { config, database, latest, log, metrics, drain, now };
}

export function unixNow(deps: AppDeps): number {
  return deps.now ? deps.now() : Math.floor(Date.now() / 1000);
}
