// Starts MiniTwit's servers on an open database and stops them gracefully:
// drain (keep serving, unready, closing every connection after its response),
// stop accepting, let in-flight requests finish (bounded), flush `latest`,
// close the database.
import type { Config } from "../config/settings";
import { applyMigrations } from "../database/migrate";
import { type Database, openDatabase } from "../database/open";
import type { Logger } from "../observability/log";
import { type Apps, createApp } from "./app";
import { appDeps } from "./deps";

export interface RunningServer {
  readonly webPort: number;
  readonly apiPort: number;
  readonly metricsPort: number;
  readonly database: Database;
  /**
   * Stops once, whoever calls: serves on for `drainMs` while draining (0, the
   * default for in-process callers: at once), then stops as described above.
   */
  stop(drainMs?: number): Promise<void>;
}

export async function startServer(config: Config, log: Logger, now?: () => number): Promise<RunningServer> {
  const database = await openDatabase(config, log);
  try {
    if (config.migrate) {
      const { applied, version } = await applyMigrations(database.db);
      log.info({ applied, version }, applied.length ? "migrations applied" : "schema is current");
    }
  } catch (err) {
    await database.close();
    throw err;
  }
  const deps = appDeps(config, database, log, now);
  const { latest, drain } = deps;
  const { web, api, metrics: scrape } = createApp(deps);
  await listenAll(config, { web, api, metrics: scrape }, database);
  const webPort = web.server?.port ?? config.port;
  const apiPort = api.server?.port ?? config.apiPort;
  const metricsPort = scrape.server?.port ?? config.metricsPort;
  log.info(
    { webPort, apiPort, metricsPort, database: database.driver, location: database.location },
    "minitwit is listening",
  );

  let stopping: Promise<void> | null = null;
  const stop = async (drainMs: number) => {
    drain.begin();
    log.info({ drainMs }, "draining: /readyz answers 503 and every response closes its connection");
    if (drainMs > 0) await Bun.sleep(drainMs);
    const servers = [web.server, api.server, scrape.server].filter((s) => s != null);
    const graceful = Promise.all(servers.map((s) => s.stop(false)));
    const timedOut = await Promise.race([
      graceful.then(() => false),
      Bun.sleep(config.shutdownTimeoutMs).then(() => true),
    ]);
    if (timedOut) {
      log.warn({ timeoutMs: config.shutdownTimeoutMs }, "in-flight requests did not finish in time; closing them");
      await Promise.all(servers.map((s) => s.stop(true)));
    }
    await latest.flush();
    await database.close();
    log.info("minitwit stopped");
  };
  return {
    webPort,
    apiPort,
    metricsPort,
    database,
    stop: (drainMs = 0) => {
      stopping ??= stop(drainMs);
      return stopping;
    },
  };
}

/** Runs `listen`, turning "address in use" into an error that names the port. */
function explainPortInUse(port: number, flag: string, listen: () => unknown): void {
  try {
    listen();
  } catch (err) {
    if ((err as { code?: unknown }).code !== "EADDRINUSE") throw err;
    throw new Error(`port ${port} is already in use; stop what listens there, or choose another with ${flag}`, {
      cause: err,
    });
  }
}

/**
 * Listens on the web, API and metrics ports; if any is taken, stops what did
 * start and closes the database (releasing the embedded one) before throwing.
 */
async function listenAll(config: Config, apps: Apps, database: Database): Promise<void> {
  const { web, api, metrics: scrape } = apps;
  // The app answers oversize bodies itself, with its headers (the guard by
  // Content-Length, the body parser while reading), so Bun's own cap is set
  // out of reach; bodies no route reads are discarded, not kept. Bun limits
  // how long a slow or silent client may hold a connection. Elysia turns
  // SO_REUSEPORT on by default: a second MiniTwit on the same port would
  // start silently and take half of the connections.
  const options = {
    hostname: config.host,
    reusePort: false,
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    idleTimeout: config.security.idleTimeoutS,
  };
  try {
    explainPortInUse(config.port, "--port", () => web.listen({ ...options, port: config.port }));
    explainPortInUse(config.apiPort, "--api-port", () => api.listen({ ...options, port: config.apiPort }));
    explainPortInUse(config.metricsPort, "--metrics-port", () =>
      scrape.listen({ ...options, port: config.metricsPort }),
    );
  } catch (err) {
    await Promise.all([web.server, api.server, scrape.server].map((s) => s?.stop(true)));
    await database.close();
    throw err;
  }
}
