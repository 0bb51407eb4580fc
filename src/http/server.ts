// Starts MiniTwit's servers on an open database and stops them gracefully:
// stop accepting, let in-flight requests finish (bounded), flush `latest`,
// close the database.
import type { Config } from "../config";
import { type Database, openDatabase } from "../database";
import { LatestTracker } from "../latest";
import type { Logger } from "../log";
import { createMetrics } from "../metrics";
import { applyMigrations } from "../migrate";
import { createApp } from "./app";

export interface RunningServer {
  readonly webPort: number;
  readonly apiPort: number;
  readonly database: Database;
  stop(): Promise<void>;
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
  const latest = new LatestTracker(database.db, log);
  const metrics = createMetrics({ database, latest, log });
  const { web, api } = createApp({ config, database, latest, log, metrics, now });
  // Bun enforces these below the app: a hard cap for bodies sent without a
  // Content-Length (the guard answers the others), and a limit on how long a
  // slow or silent client may hold a connection.
  const limits = { maxRequestBodySize: config.security.maxBodyBytes * 2, idleTimeout: config.security.idleTimeoutS };
  // Elysia turns SO_REUSEPORT on by default: a second MiniTwit on the same
  // port would start silently and take half of the connections.
  const options = { hostname: config.host, reusePort: false, ...limits };
  try {
    explainPortInUse(config.port, "--port", () => web.listen({ ...options, port: config.port }));
    explainPortInUse(config.apiPort, "--api-port", () => api.listen({ ...options, port: config.apiPort }));
  } catch (err) {
    await Promise.all([web.server, api.server].map((s) => s?.stop(true)));
    await database.close();
    throw err;
  }
  const webPort = web.server?.port ?? config.port;
  const apiPort = api.server?.port ?? config.apiPort;
  log.info({ webPort, apiPort, database: database.driver, location: database.location }, "minitwit is listening");

  let stopping: Promise<void> | null = null;
  const stop = async () => {
    const servers = [web.server, api.server].filter((s) => s != null);
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
    database,
    stop: () => {
      stopping ??= stop();
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
