// The yardstick with MiniTwit's per-request duties and nothing else
// (`bun run bench --compare --duties`): what a server must do for each
// simulator request once it authorizes it, records `latest` where other
// replicas read it, validates the body, puts the security headers and a
// request id on the answer, counts it in the metrics and writes its access
// line with the client's address. Each duty is MiniTwit's own code, the
// pieces its front door (src/http/middleware/front-door.ts) and the simulator API's gate
// are made of, called here without Elysia; only the body's validation is
// written out, since in MiniTwit it is Elysia's schema. So the ratio of this
// server to the bare yardstick is what the duties cost, and the rest of
// MiniTwit's gap is the framework's.

import { loadConfig } from "../src/config/settings";
import type { Database } from "../src/database/open";
import { apiGate } from "../src/http/api/routes";
import { appDeps } from "../src/http/deps";
import { guard } from "../src/http/middleware/guard";
import { identify, REQUEST_ID_HEADER, requestRecorder } from "../src/http/middleware/observe";
import { type Peer, pathOf } from "../src/http/middleware/request-origin";
import { routeMatcher } from "../src/http/middleware/route-template";
import { METRICS_PATH, PROBE_PATHS } from "../src/http/monitoring/routes";
import { createLogger } from "../src/observability/log";

type Handler = (request: Request, body: Record<string, unknown> | null) => Promise<Response>;

/** The yardstick's routes, for the metrics' and the access line's labels. */
const ROUTES = [
  { method: "GET", path: "/readyz" },
  { method: "GET", path: "/latest" },
  { method: "POST", path: "/register" },
  { method: "GET", path: "/msgs" },
  { method: "GET", path: "/msgs/:username" },
  { method: "POST", path: "/msgs/:username" },
  { method: "GET", path: "/fllws/:username" },
  { method: "POST", path: "/fllws/:username" },
];

/** Wraps the yardstick's handler in the duties; `sql` is its postgres.js client. */
export function withDuties(handle: Handler, sql: unknown): (request: Request, server: Peer) => Promise<Response> {
  const config = loadConfig({ ...process.env, HOST: "127.0.0.1" });
  const { security } = config;
  // The `latest` row's fixed statement runs on the driver's client.
  const database = { db: { $client: sql } } as unknown as Database;
  const deps = appDeps(config, database, createLogger(config.logLevel));
  const { metrics } = deps;
  const gate = guard(deps, true);
  const simulatorGate = apiGate(deps, "");
  const record = requestRecorder(deps, [...PROBE_PATHS, METRICS_PATH]);
  const matchRoute = routeMatcher(ROUTES);
  const invalid = (key: string) => Response.json({ status: 400, error_msg: `Invalid ${key}` }, { status: 400 });

  const duties = async (request: Request, path: string): Promise<Response> => {
    const refused = simulatorGate(request);
    if (refused !== undefined) return refused;
    if (request.method !== "POST") return handle(request, null);
    const body = JSON.parse(await request.text()) as Record<string, unknown>;
    for (const [key, value] of Object.entries(body)) {
      const max = key === "content" ? security.maxMessageLength : security.maxUsernameLength;
      if (key !== "pwd" && (typeof value !== "string" || value.length > max)) return invalid(key);
    }
    const response = await handle(request, body);
    if (response.status === 204 && path.startsWith("/msgs/")) metrics.messagesPosted.inc();
    else if (response.status === 204 && path.startsWith("/fllws/")) {
      (body.follow !== undefined ? metrics.follows : metrics.unfollows).inc();
    }
    return response;
  };

  return async (request, server) => {
    const started = performance.now();
    const id = identify(request);
    const path = pathOf(request.url);
    const response = gate.admit(request, server, path, true) ?? (await duties(request, path));
    const seconds = (performance.now() - started) / 1000;
    response.headers.set(REQUEST_ID_HEADER, id);
    gate.decorate(response.headers, request, server, true);
    const route = matchRoute(request.method, path);
    record({ request, id, path, route, status: response.status, seconds, server });
    return response;
  };
}
