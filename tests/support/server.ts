// MiniTwit started in-process for HTTP tests, on ephemeral ports, against a
// fresh Postgres database or a fresh embedded PGlite directory.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Config, loadConfig } from "../../src/config/settings";
import { type RunningServer, startServer } from "../../src/http/server";
import { createLogger, type Logger } from "../../src/observability/log";
import { freshDatabase } from "./postgres";

export type Driver = "postgres" | "pglite";

export interface TestServer {
  readonly web: string;
  readonly api: string;
  /** The METRICS_PORT base URL. */
  readonly metrics: string;
  readonly config: Config;
  readonly server: RunningServer;
  stop(): Promise<void>;
}

export async function startTestServer(
  driver: Driver,
  env: Record<string, string> = {},
  log: Logger = createLogger("silent"),
): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "minitwit-data-"));
  const config = loadConfig({
    DATA_DIR: dataDir,
    PORT: "0",
    API_PORT: "0",
    METRICS_PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "silent",
    ...(driver === "postgres" ? { DATABASE_URL: await freshDatabase() } : {}),
    ...env,
  });
  const server = await startServer(config, log);
  return {
    web: `http://127.0.0.1:${server.webPort}`,
    api: `http://127.0.0.1:${server.apiPort}`,
    metrics: `http://127.0.0.1:${server.metricsPort}`,
    config,
    server,
    stop: async () => {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const SIMULATOR_AUTH = "Basic c2ltdWxhdG9yOnN1cGVyX3NhZmUh";

/** A small client for the simulator API. */
export function apiClient(base: string, auth: string | null = SIMULATOR_AUTH) {
  const request = async (method: string, path: string, body?: unknown, raw?: string) => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (auth !== null) headers.authorization = auth;
    const res = await fetch(base + path, {
      method,
      headers,
      body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    const text = await res.text();
    return { status: res.status, text, json: text === "" ? undefined : JSON.parse(text) };
  };
  return {
    get: (path: string) => request("GET", path),
    post: (path: string, body?: unknown) => request("POST", path, body),
    postRaw: (path: string, raw: string) => request("POST", path, undefined, raw),
  };
}
