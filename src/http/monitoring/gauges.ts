// The gauges /metrics computes from the database when scraped: the pool's
// size, the tables' sizes, the moderation counts and the simulator's latest
// action id. Each read is cached or cheap, so a scrape in a loop costs the
// database little.
import { Gauge, type Registry } from "prom-client";
import type { Database } from "../../database/open";
import { liveRowEstimates, type TableSizes } from "../../database/table-sizes";
import type { Logger } from "../../observability/log";
import { readLatestAction } from "../../store/latest-action";
import { moderationCounts } from "../../store/moderation";
import type { LatestActionTracker } from "../latest-action";

// How long a read of the row statistics is reused: the cache bounds what
// anyone scraping /metrics in a loop costs the database.
const TABLE_SIZES_MAX_AGE_MS = 15_000;

type Registers = Registry[];

/** Adds the database's gauges to `registry`. */
export function registerDatabaseGauges(
  registry: Registry,
  { database, latest, log }: { database: Database; latest: LatestActionTracker; log: Logger },
): void {
  const registers = [registry];
  databaseGauges(database, log, registers);
  latestGauge(database, latest, registers);
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

function latestGauge(database: Database, latest: LatestActionTracker, registers: Registers): void {
  new Gauge({
    name: "minitwit_latest_action_id",
    help: "The simulator's latest action id: the last one this replica stored, else the stored one; -1 when none.",
    registers,
    async collect() {
      // A primary-key read of a one-row table, and only until this replica
      // has stored a value itself.
      const value = latest.written() ?? (await readLatestAction(database.db).catch(() => null)) ?? -1;
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
