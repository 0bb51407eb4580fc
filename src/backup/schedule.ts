// `minitwit backup --schedule CRON`: a long-running backup service. Runs a
// backup on each tick of the cron expression, and one at start when the store
// holds none since the last tick (never two at once: a tick that comes while
// a backup still runs is skipped and logged), logs every run, and serves
// /metrics so Prometheus can alert on a backup that stopped succeeding or
// growing. Its own metrics registry: nothing else of MiniTwit runs in this
// process.
import { Cron } from "croner";
import { Counter, Gauge, Registry } from "prom-client";
import type { Config } from "../config/settings";
import type { Logger } from "../observability/log";
import { newestCompleteBackup, type StoredBackup } from "./catalog";
import { type BackupOptions, databaseOf, runBackup } from "./create";
import { requireS3 } from "./targets/s3";

export interface ScheduleOptions extends BackupOptions {
  readonly cron: string;
  readonly metricsPort: number;
  /** Waits before each new try of a failed catch-up; tests shorten them. */
  readonly catchUpRetryMs?: readonly number[];
}

// A stack's first deploy starts this service beside a database that is not
// up yet: the catch-up tries again for about half an hour before it leaves
// the backup to the next tick (and BackupMissing to a person).
const CATCH_UP_RETRY_MS = [30_000, 60_000, 120_000, 300_000, 600_000, 900_000];

export interface RunningSchedule {
  readonly metricsPort: number;
  /** When the next backup starts; null when there is none. */
  nextRun(): Date | null;
  /** Stops scheduling, waits for a backup in progress to finish, stops serving metrics. */
  stop(): Promise<void>;
}

/** Throws a readable message for an expression croner cannot parse. */
export function checkCron(expression: string): void {
  try {
    new Cron(expression, { paused: true }).stop();
  } catch (err) {
    throw new Error(`"${expression}" is not a cron expression: ${(err as Error).message}`, { cause: err });
  }
}

export function startBackupSchedule(config: Config, options: ScheduleOptions, log: Logger): RunningSchedule {
  const metrics = backupMetrics();
  let running: Promise<boolean> | null = null;
  let ticked = false;
  let stopped = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  // Ticks and the start-up catch-up share this guard, not croner's protect,
  // which knows only its own ticks: a tick during the catch-up is skipped too.
  const runExclusive = (): Promise<boolean> | undefined => {
    if (running !== null) {
      log.warn("a backup is still running; skipping this tick");
      return undefined;
    }
    running = runRecorded(config, options, log, metrics).finally(() => {
      running = null;
    });
    return running;
  };
  const job = new Cron(options.cron, async () => {
    ticked = true;
    await runExclusive();
  });
  const server = serveMetrics(metrics.registry, options.metricsPort, config.host);
  log.info({ cron: options.cron, next: job.nextRun(), metricsPort: server.port }, "backup schedule started");
  // A tick that came meanwhile, or a stop, makes a catch-up pointless.
  const catchUp = async (attempt: number) => {
    if (ticked || stopped) return;
    if ((await runExclusive()) !== false) return;
    const delays = options.catchUpRetryMs ?? CATCH_UP_RETRY_MS;
    const delay = delays[attempt];
    if (delay === undefined || stopped) return;
    log.info({ retryInSeconds: delay / 1000 }, "the catch-up backup failed; trying again");
    retry = setTimeout(() => void catchUp(attempt + 1), delay);
  };
  void (async () => {
    const newest = await recallNewestBackup(config, log, metrics);
    // A listing that failed says nothing about the store: no backup on a guess.
    if (newest === undefined || ticked || stopped) return;
    const reason = catchUpReason(newest, job.previousRuns(1)[0]);
    if (reason === null) return;
    log.info({ reason, newest: newest?.key ?? null }, "no backup since the last scheduled tick: taking one now");
    await catchUp(0);
  })();

  let stopping: Promise<void> | null = null;
  return {
    metricsPort: server.port as number,
    nextRun: () => job.nextRun(),
    stop: () => {
      stopping ??= (async () => {
        stopped = true;
        clearTimeout(retry);
        job.stop();
        if (running !== null) {
          log.info("waiting for the running backup to finish");
          await running;
        }
        await server.stop(true);
        log.info("backup schedule stopped");
      })();
      return stopping;
    },
  };
}

/**
 * Why a backup is due at start, or null when the newest stored one is from
 * the last scheduled tick or later. Without it, a fresh install, or a service
 * that was down over its tick, would have no backup until the next tick, and
 * the BackupMissing alert would rightly page meanwhile; pgBackRest's service
 * (ops/postgres/pgbackrest-schedule.sh) catches up the same way. The last
 * tick, rather than one period back from now, so that the newest backup is
 * never older than one period when the next tick comes.
 */
function catchUpReason(newest: StoredBackup | null, lastTick: Date | undefined): string | null {
  if (newest === null) return "the store holds no complete backup of this database";
  if (lastTick === undefined || newest.createdAt >= lastTick) return null;
  return `the newest backup, from ${newest.createdAt.toISOString()}, is older than the last tick, ${lastTick.toISOString()}`;
}

interface BackupMetrics {
  readonly registry: Registry;
  readonly lastSuccess: Gauge;
  readonly lastSize: Gauge;
  readonly failures: Counter;
  readonly duration: Gauge;
}

/** The service's own registry: nothing else of MiniTwit runs in this process. */
function backupMetrics(): BackupMetrics {
  const registry = new Registry();
  const registers = [registry];
  const metrics = {
    registry,
    lastSuccess: new Gauge({
      name: "minitwit_backup_last_success_timestamp_seconds",
      help: "Unix time at which the last successful backup finished; 0 before the first.",
      registers,
    }),
    lastSize: new Gauge({
      name: "minitwit_backup_last_size_bytes",
      help: "Stored size of the last successful backup, in bytes.",
      registers,
    }),
    failures: new Counter({
      name: "minitwit_backup_failures_total",
      help: "Backup runs that failed since this process started.",
      registers,
    }),
    duration: new Gauge({
      name: "minitwit_backup_duration_seconds",
      help: "How long the last backup run took, successful or not.",
      registers,
    }),
  };
  metrics.lastSuccess.set(0);
  return metrics;
}

/**
 * A new process knows no backup of its own, and a last-success time of 0
 * would read as "no backup for decades" until the next scheduled run: the
 * alert on stale backups would fire after every deploy. So the service
 * starts from the newest complete backup the store holds for this database,
 * unless a run of its own has already finished. Returns that backup, null
 * when the store holds none, undefined when it could not be listed.
 */
async function recallNewestBackup(
  config: Config,
  log: Logger,
  metrics: BackupMetrics,
): Promise<StoredBackup | null | undefined> {
  try {
    const newest = await newestCompleteBackup(requireS3(config), databaseOf(config));
    if (newest === null || (await metrics.lastSuccess.get()).values[0]?.value !== 0) return newest;
    metrics.lastSuccess.set(newest.createdAt.getTime() / 1000);
    metrics.lastSize.set(newest.size);
    log.info({ key: newest.key, createdAt: newest.createdAt }, "newest stored backup found");
    return newest;
  } catch (err) {
    log.warn({ err }, "could not list the stored backups; the last success stays unknown until the next run");
    return undefined;
  }
}

/** One scheduled backup: logged and recorded in the metrics; a failure is logged, never thrown. Whether it succeeded. */
async function runRecorded(
  config: Config,
  options: ScheduleOptions,
  log: Logger,
  metrics: BackupMetrics,
): Promise<boolean> {
  const started = performance.now();
  log.info({ cron: options.cron }, "backup started");
  try {
    const result = await runBackup(config, options);
    metrics.lastSuccess.set(Date.now() / 1000);
    metrics.lastSize.set(result.manifest.size);
    const { key, manifest, durationSeconds, deleted } = result;
    const { size, tables: rows, encrypted } = manifest;
    log.info({ key, size, rows, encrypted, durationSeconds, deleted }, "backup finished");
    return true;
  } catch (err) {
    metrics.failures.inc();
    log.error({ err }, "backup failed");
    return false;
  } finally {
    metrics.duration.set((performance.now() - started) / 1000);
  }
}

function serveMetrics(registry: Registry, port: number, hostname: string) {
  return Bun.serve({
    port,
    hostname,
    fetch: async (request) => {
      if (new URL(request.url).pathname !== "/metrics") return new Response("not found\n", { status: 404 });
      return new Response(await registry.metrics(), { headers: { "content-type": registry.contentType } });
    },
  });
}
