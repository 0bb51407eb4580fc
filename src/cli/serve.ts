import { type Config, DEFAULT_SIMULATOR_TOKEN } from "../config/settings";
import type { Logger } from "../observability/log";
import { defineCommand } from "./command";
import { DATABASE_HELP, databaseOptions, stopSignal } from "./shared";

export const serve = defineCommand({
  name: "serve",
  summary: "serve the web pages and the simulator API",
  settings: ["core", "database", "server"],
  usage: `Usage: minitwit serve [options]

Serves the web application on PORT and the simulator API on API_PORT (and
under /api on PORT), and /metrics on METRICS_PORT. Applies pending migrations
first unless --no-migrate. On SIGINT or SIGTERM it drains for DRAIN_DELAY_MS
(/readyz answers 503, every response closes its connection), then stops
listening and lets requests in flight finish within SHUTDOWN_TIMEOUT_MS.
Holds the embedded database (DATA_DIR) for itself while it runs: stop it
before running another command on it. A port in use is an error, never shared.

Options:
  --port N             web port (env PORT, default 5000)
  --api-port N         simulator API port (env API_PORT, default 5001)
  --metrics-port N     Prometheus /metrics port (env METRICS_PORT, default 5002)
  --host ADDR          address to listen on (env HOST, default 0.0.0.0)
  --no-migrate         do not apply pending migrations at start
${DATABASE_HELP}

Environment: SIMULATOR_TOKEN(_FILE), SESSION_SECRET(_FILE), DATABASE_POOL_MAX,
DRAIN_DELAY_MS, SHUTDOWN_TIMEOUT_MS, TRUSTED_PROXIES, SIMULATOR_ALLOW,
CORS_ORIGINS, the limits (MAX_BODY_BYTES, MAX_MESSAGE_LENGTH,
RATE_LIMIT_PER_SECOND, ...), NODE_ENV.`,
  options: {
    ...databaseOptions,
    port: { type: "integer", min: 0, max: 65_535 },
    "api-port": { type: "integer", min: 0, max: 65_535 },
    "metrics-port": { type: "integer", min: 0, max: 65_535 },
    host: { type: "string" },
    "no-migrate": { type: "boolean" },
  },
  async run({ config }) {
    const [{ startServer }, { createLogger }] = await Promise.all([
      import("../http/server"),
      import("../observability/log"),
    ]);
    const log = createLogger(config.logLevel);
    checkSimulatorToken(config, log);
    checkSessionSecret(config, log);
    const server = await startServer(config, log);
    const signal = await stopSignal();
    log.info({ signal }, "shutting down");
    await server.stop(config.drainDelayMs);
  },
});

/**
 * The course's simulator credential is public. Outside production it is the
 * convenient default; in production it must be replaced, or kept on purpose.
 */
export function checkSimulatorToken(config: Config, log: Logger): void {
  if (config.simulatorToken !== DEFAULT_SIMULATOR_TOKEN) return;
  const { production, allowDefaultSimulatorToken } = config.security;
  if (production && !allowDefaultSimulatorToken) {
    throw new Error(
      "refusing to start: SIMULATOR_TOKEN is the public course default and NODE_ENV=production; " +
        "set SIMULATOR_TOKEN (or SIMULATOR_TOKEN_FILE), or ALLOW_DEFAULT_SIMULATOR_TOKEN=1 to keep it",
    );
  }
  log.warn("SIMULATOR_TOKEN is the public course default; anyone can use the simulator API");
}

/**
 * Replicas on one PostgreSQL database must sign sessions with one secret: a
 * replica that generated its own would refuse every other replica's cookies,
 * and users would be signed out at random. In production that is a refusal
 * to start; elsewhere a warning.
 */
export function checkSessionSecret(config: Config, log: Logger): void {
  if (config.sessionSecret !== null || config.databaseUrl === null) return;
  const why = "replicas sharing a database must share one SESSION_SECRET, or each refuses the others' session cookies";
  if (config.security.production) {
    throw new Error(
      `refusing to start: SESSION_SECRET is not set, DATABASE_URL is and NODE_ENV=production; ${why}; ` +
        "set SESSION_SECRET (or SESSION_SECRET_FILE) to the same value on every replica",
    );
  }
  log.warn(`SESSION_SECRET is not set; this replica signs sessions with a secret of its own in DATA_DIR: ${why}`);
}
