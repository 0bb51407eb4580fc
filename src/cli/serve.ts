import { type Config, DEFAULT_SIMULATOR_TOKEN } from "../config";
import { startServer } from "../http/server";
import { createLogger, type Logger } from "../log";
import { type Command, DATABASE_HELP, databaseOptions } from "./command";

export const serve: Command = {
  name: "serve",
  summary: "serve the web pages and the simulator API",
  usage: `Usage: minitwit serve [options]

Serves the web application on PORT and the simulator API on API_PORT (and
under /api on PORT). Applies pending migrations first unless --no-migrate.
Stops gracefully on SIGINT or SIGTERM. Holds the embedded database (DATA_DIR)
for itself while it runs: stop it before running another command on it.
A port in use is an error, never shared.

Options:
  --port N             web port (env PORT, default 5000)
  --api-port N         simulator API port (env API_PORT, default 5001)
  --host ADDR          address to listen on (env HOST, default 0.0.0.0)
  --no-migrate         do not apply pending migrations at start
${DATABASE_HELP}

Environment: SIMULATOR_TOKEN(_FILE), SESSION_SECRET(_FILE), DATABASE_POOL_MAX,
SHUTDOWN_TIMEOUT_MS, TRUSTED_PROXIES, SIMULATOR_ALLOW, CORS_ORIGINS, the limits
(MAX_BODY_BYTES, MAX_MESSAGE_LENGTH, RATE_LIMIT_PER_SECOND, ...), NODE_ENV.`,
  options: {
    ...databaseOptions,
    port: { type: "string" },
    "api-port": { type: "string" },
    host: { type: "string" },
    "no-migrate": { type: "boolean" },
  },
  async run({ config }) {
    const log = createLogger(config.logLevel);
    checkSimulatorToken(config, log);
    const server = await startServer(config, log);
    const signal = await new Promise<string>((resolve) => {
      process.once("SIGTERM", () => resolve("SIGTERM"));
      process.once("SIGINT", () => resolve("SIGINT"));
    });
    log.info({ signal }, "shutting down");
    await server.stop();
  },
};

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
