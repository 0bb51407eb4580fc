// What every request passes before any route: security headers, CORS for the
// API, the body size cap, the simulator allow-list, the rate limit and the
// API's JSON-only rule. It runs first, so a refused request touches nothing
// (not even `latest`). It also installs the one body parser (request-body.ts).
import { Elysia } from "elysia";
import { inRanges } from "../cidr";
import type { Logger } from "../log";
import type { AppDeps } from "./deps";
import { apiError } from "./errors";
import { RateLimiter } from "./rate-limit";
import { bodyParser, isJsonContentType } from "./request-body";
import { clientAddress, isHttps, pathOf } from "./request-origin";
import { simulatorAuthorizer } from "./simulator-auth";

const CSP = [
  "default-src 'none'",
  "img-src 'self' https://www.gravatar.com",
  "style-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
};

export interface GuardEvents {
  /** A request refused by SIMULATOR_ALLOW. */
  allowListRefused?(): void;
  /** A request refused by the rate limit. */
  rateLimited?(): void;
}

/**
 * @param isApi which paths belong to the simulator API on this port
 */
export function guard(deps: AppDeps, isApi: (path: string) => boolean, events: GuardEvents = {}) {
  const { security, trustedProxies } = deps.config;
  const limiter = new RateLimiter(security.rateLimitPerSecond, security.rateLimitBurst);
  const isSimulator = simulatorAuthorizer(deps.config.simulatorToken);
  const log: Logger = deps.log;

  return new Elysia()
    .onRequest(({ request, server, set }) => {
      Object.assign(set.headers, SECURITY_HEADERS);
      if (isHttps(server, request, trustedProxies)) {
        set.headers["strict-transport-security"] = "max-age=31536000; includeSubDomains";
      }
      const path = pathOf(request.url);
      const api = isApi(path);
      const refuse = (status: number, message: string) => {
        if (api) return apiError(status, message);
        return new Response(message, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
      };

      if (api) {
        const origin = request.headers.get("origin");
        if (origin !== null && security.corsOrigins.includes(origin)) {
          set.headers["access-control-allow-origin"] = origin;
          set.headers.vary = "Origin";
          if (request.method === "OPTIONS") {
            set.headers["access-control-allow-methods"] = "GET, POST";
            set.headers["access-control-allow-headers"] = "Authorization, Content-Type";
            set.headers["access-control-max-age"] = "600";
            return new Response(null, { status: 204 });
          }
        } else if (request.method === "OPTIONS") {
          return refuse(403, "This origin may not call the API");
        }
      }

      const length = Number(request.headers.get("content-length") ?? 0);
      if (length > security.maxBodyBytes) {
        return refuse(413, `The request body is too large (at most ${security.maxBodyBytes} bytes)`);
      }

      const client = () => clientAddress(server, request, trustedProxies);
      if (api && security.simulatorAllow !== null && !inRanges(client(), security.simulatorAllow)) {
        log.warn({ client: client(), path, method: request.method }, "request refused by SIMULATOR_ALLOW");
        events.allowListRefused?.();
        return refuse(403, "This address may not use the API");
      }

      // The authenticated simulator is never throttled; anonymous API calls
      // and form posts are.
      const limited = api ? !isSimulator(request.headers.get("authorization")) : request.method === "POST";
      if (limited) {
        const wait = limiter.take(client());
        if (wait > 0) {
          events.rateLimited?.();
          set.headers["retry-after"] = String(wait);
          const res = refuse(429, `Too many requests; try again in ${wait} seconds`);
          res.headers.set("retry-after", String(wait));
          return res;
        }
      }

      // A cross-site page can send a text/plain POST without a preflight;
      // the API's bodies are JSON, so anything else is refused unread.
      if (api && request.method === "POST" && !isJsonContentType(request.headers.get("content-type"))) {
        return refuse(415, "The request body must be JSON (Content-Type: application/json)");
      }
    })
    .onParse(bodyParser(security.maxBodyBytes))
    .as("global");
}
