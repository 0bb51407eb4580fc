// What every request passes before any route, and what every response
// carries: the body size cap, the simulator allow-list, the rate limit and the
// API's JSON-only rule before; the security headers, CORS for the API and
// `Connection: close` while draining after. The front door (front-door.ts)
// asks it first, so a refused request touches nothing (not even `latest`).
// These are plain functions rather than Elysia hooks: an onRequest hook makes
// Elysia build its context before routing, on every request
// (docs/performance.md, "Layers").
import { inRanges } from "../../config/cidr";
import type { AppDeps } from "../deps";
import { simulatorAuthorizer } from "../simulator-credential";
import { isJsonContentType } from "./body-parsing";
import { apiError } from "./error-mapper";
import { RateLimiter } from "./rate-limit";
import { clientAddress, isHttps, type Peer } from "./request-origin";

const CSP = [
  "default-src 'none'",
  "img-src 'self' https://www.gravatar.com",
  "style-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

const SECURITY_HEADERS: readonly (readonly [string, string])[] = [
  ["content-security-policy", CSP],
  ["x-content-type-options", "nosniff"],
  ["referrer-policy", "same-origin"],
  ["x-frame-options", "DENY"],
  ["cross-origin-opener-policy", "same-origin"],
];

export interface GuardEvents {
  /** A request refused by SIMULATOR_ALLOW. */
  allowListRefused?(): void;
  /** A request refused by the rate limit. */
  rateLimited?(): void;
}

export interface Guard {
  /** The refusal of this request, or null when it may go on to the routes. */
  admit(request: Request, server: Peer | null, path: string, api: boolean): Response | null;
  /** Puts the headers every response of this port carries onto `headers`. */
  decorate(headers: Headers, request: Request, server: Peer | null, api: boolean): void;
}

/** @param closeWhileDraining whether responses close their connection while the replica drains */
export function guard(deps: AppDeps, closeWhileDraining: boolean, events: GuardEvents = {}): Guard {
  const { security, trustedProxies } = deps.config;
  const { log, drain } = deps;
  const limiter = new RateLimiter(security.rateLimitPerSecond, security.rateLimitBurst);
  const isSimulator = simulatorAuthorizer(deps.config.simulatorToken);
  const allowedOrigin = (request: Request): string | null => {
    const origin = request.headers.get("origin");
    return origin !== null && security.corsOrigins.includes(origin) ? origin : null;
  };

  const admit = (request: Request, server: Peer | null, path: string, api: boolean): Response | null => {
    const refuse = (status: number, message: string) => {
      if (api) return apiError(status, message);
      return new Response(message, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
    };
    if (api && request.method === "OPTIONS") {
      if (allowedOrigin(request) === null) return refuse(403, "This origin may not call the API");
      return new Response(null, {
        status: 204,
        headers: {
          "access-control-allow-methods": "GET, POST",
          "access-control-allow-headers": "Authorization, Content-Type",
          "access-control-max-age": "600",
        },
      });
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
    return null;
  };

  const decorate = (headers: Headers, request: Request, server: Peer | null, api: boolean): void => {
    for (const [name, value] of SECURITY_HEADERS) headers.set(name, value);
    if (isHttps(server, request, trustedProxies)) {
      headers.set("strict-transport-security", "max-age=31536000; includeSubDomains");
    }
    if (api) {
      const origin = allowedOrigin(request);
      if (origin !== null) {
        headers.set("access-control-allow-origin", origin);
        headers.set("vary", "Origin");
      }
    }
    if (closeWhileDraining && drain.draining) headers.set("connection", "close");
  };

  return { admit, decorate };
}
