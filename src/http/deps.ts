// What the HTTP surfaces need, built once by `serve` and passed to createApp.
import type { Config } from "../config";
import type { Database } from "../database";
import type { LatestTracker } from "../latest";
import type { Logger } from "../log";
import type { Metrics } from "../metrics";
import type { Drain } from "./drain";

export interface AppDeps {
  readonly config: Config;
  readonly database: Database;
  readonly latest: LatestTracker;
  readonly log: Logger;
  /** The process's Prometheus registry and the counters handlers increment. */
  readonly metrics: Metrics;
  /** Set when the replica is stopping: /readyz fails and connections close. */
  readonly drain: Drain;
  /** Current time in unix seconds; replaceable in tests. */
  readonly now?: () => number;
}

export function unixNow(deps: AppDeps): number {
  return deps.now ? deps.now() : Math.floor(Date.now() / 1000);
}
