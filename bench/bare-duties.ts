// The yardstick with MiniTwit's per-request duties and nothing else
// (`bun run bench --compare --duties`): what a server must do for each
// simulator request once it authorizes it, records `latest` where other
// replicas read it, validates the body, puts the security headers and a
// request id on the answer, counts it in the metrics and writes its access
// line with the client's address. Each duty is MiniTwit's own code where it
// has one (the credential check, the `latest` tracker, the request metrics,
// the access line, the security headers); what is left out is the framework
// (Elysia's routing, hooks and context) and the structure around it. So the
// ratio of this server to the bare yardstick is what the duties cost, and the
// rest of MiniTwit's gap is the framework's.
import { DEFAULT_SIMULATOR_TOKEN, loadConfig } from "../src/config";
import type { Db } from "../src/database";
import { SECURITY_HEADERS } from "../src/http/guard";
import { acceptedRequestId } from "../src/http/observe";
import { pathOf } from "../src/http/request-origin";
import { simulatorAuthorizer } from "../src/http/simulator-auth";
import { LatestTracker, parseLatest } from "../src/latest";
import { accessLog, createLogger } from "../src/log";
import { createMetrics } from "../src/metrics";

type Handler = (request: Request, body: Record<string, unknown> | null) => Promise<Response>;
interface Server {
  requestIP(request: Request): { address: string } | null;
}

const NOT_AUTHORIZED = "You are not authorized to use this resource!";

/** The route template of a simulator path, as MiniTwit's metrics and access line label it. */
function template(path: string): string {
  if (path.startsWith("/msgs/")) return "/msgs/:username";
  if (path.startsWith("/fllws/")) return "/fllws/:username";
  return path;
}

/** Wraps the yardstick's handler in the duties; `sql` is its postgres.js client. */
export function withDuties(handle: Handler, sql: unknown): (request: Request, server: Server) => Promise<Response> {
  const config = loadConfig({ ...process.env, HOST: "127.0.0.1" });
  const { security } = config;
  const log = createLogger(config.logLevel);
  const access = accessLog(log);
  // writeLatest runs its fixed statement on the driver's client.
  const latest = new LatestTracker({ $client: sql } as unknown as Db, log);
  const metrics = createMetrics({ database: null, latest, log, drain: null } as never);
  const authorized = simulatorAuthorizer(process.env.SIMULATOR_TOKEN ?? DEFAULT_SIMULATOR_TOKEN);
  const json = (status: number, message: string) => Response.json({ status, error_msg: message }, { status });

  const duties = async (request: Request, path: string): Promise<Response> => {
    const query = request.url.indexOf("?");
    if (query !== -1) {
      const value = parseLatest(new URLSearchParams(request.url.slice(query + 1)).get("latest"));
      if (value !== null) latest.record(value);
    }
    if (Number(request.headers.get("content-length") ?? 0) > security.maxBodyBytes) return json(413, "too large");
    const needsAuth = path === "/msgs" || path.startsWith("/msgs/") || path.startsWith("/fllws/");
    if (needsAuth && !authorized(request.headers.get("authorization"))) return json(403, NOT_AUTHORIZED);
    if (request.method !== "POST") return handle(request, null);
    if (!(request.headers.get("content-type") ?? "").startsWith("application/json")) return json(415, "JSON only");
    const body = JSON.parse(await request.text()) as Record<string, unknown>;
    for (const [key, value] of Object.entries(body)) {
      const max = key === "content" ? security.maxMessageLength : security.maxUsernameLength;
      if (key !== "pwd" && (typeof value !== "string" || value.length > max)) return json(400, `Invalid ${key}`);
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
    const id = acceptedRequestId(request.headers.get("x-request-id")) ?? crypto.randomUUID();
    const path = pathOf(request.url);
    const response = await duties(request, path);
    const seconds = (performance.now() - started) / 1000;
    response.headers.set("x-request-id", id);
    for (const [name, value] of SECURITY_HEADERS) response.headers.set(name, value);
    const route = template(path);
    metrics.observeRequest(request.method, route, response.status, seconds);
    access("info", {
      reqId: id,
      method: request.method,
      route,
      path,
      status: response.status,
      ms: Math.round(seconds * 10_000) / 10,
      client: server.requestIP(request)?.address ?? "unknown",
    });
    return response;
  };
}
