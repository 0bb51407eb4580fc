import { startServer } from "../http/server";
import { createLogger } from "../log";
import { type Command, DATABASE_HELP, databaseOptions } from "./command";

export const serve: Command = {
  name: "serve",
  summary: "serve the web pages and the simulator API",
  usage: `Usage: minitwit serve [options]

Serves the web application on PORT and the simulator API on API_PORT (and
under /api on PORT). Applies pending migrations first unless --no-migrate.
Stops gracefully on SIGINT or SIGTERM.

Options:
  --port N             web port (env PORT, default 5000)
  --api-port N         simulator API port (env API_PORT, default 5001)
  --host ADDR          address to listen on (env HOST, default 0.0.0.0)
  --no-migrate         do not apply pending migrations at start
${DATABASE_HELP}

Environment: SIMULATOR_TOKEN(_FILE), SESSION_SECRET(_FILE), DATABASE_POOL_MAX,
SHUTDOWN_TIMEOUT_MS.`,
  options: {
    ...databaseOptions,
    port: { type: "string" },
    "api-port": { type: "string" },
    host: { type: "string" },
    "no-migrate": { type: "boolean" },
  },
  async run({ config }) {
    const log = createLogger(config.logLevel);
    const server = await startServer(config, log);
    const signal = await new Promise<string>((resolve) => {
      process.once("SIGTERM", () => resolve("SIGTERM"));
      process.once("SIGINT", () => resolve("SIGINT"));
    });
    log.info({ signal }, "shutting down");
    await server.stop();
  },
};
