// Wraps each port's whole request handler: gives every request an id (the
// caller's X-Request-Id when it is a sane token, else a new one, returned in
// the response), then records the request in the metrics and writes the one
// access line per request. Wrapping the handler, rather than hooking Elysia's
// lifecycle, also sees the responses that never reach a route: onRequest
// refusals, unknown paths and errors.
import { type AnyElysia, Elysia } from "elysia";
import { accessLog } from "../log";
import type { AppDeps } from "./deps";
import { PROBE_PATHS } from "./monitoring";
import { clientAddress, type Peer, pathOf } from "./request-origin";
import { methodLabel, type RouteMatcher, routeMatcher, UNMATCHED } from "./route-template";

export const REQUEST_ID_HEADER = "x-request-id";

// Letters, digits and the punctuation tracing systems use; nothing that could
// break a log line or a header.
const SANE_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:/+=@-]{0,127}$/;

// Probes and scrapes arrive every few seconds from every monitor; their
// successes are logged at debug so they do not drown the access log.
const QUIET_ROUTES = new Set([...PROBE_PATHS, "/metrics"]);

const ids = new WeakMap<Request, string>();

/** The id given to this request; for error logs that happen inside the handler. */
export function requestId(request: Request): string | undefined {
  return ids.get(request);
}

export function acceptedRequestId(header: string | null): string | null {
  return header !== null && SANE_REQUEST_ID.test(header) ? header : null;
}

type Handler = (request: Request) => Response | Promise<Response>;

export function observeRequests(deps: AppDeps) {
  const { metrics, log, config } = deps;
  const access = accessLog(log);
  // Known once the app listens: its route table and its server (for the peer address).
  let root: { routes: AnyElysia["routes"]; server: Peer | null } | null = null;
  let matchRoute: RouteMatcher = () => UNMATCHED;

  return new Elysia({ name: "observe-requests" })
    .onStart((app) => {
      root = app as unknown as typeof root;
      matchRoute = routeMatcher(app.routes);
    })
    .wrap((next) => async (request: Request) => {
      const handle = next as unknown as Handler;
      const started = performance.now();
      const id = acceptedRequestId(request.headers.get(REQUEST_ID_HEADER)) ?? crypto.randomUUID();
      ids.set(request, id);
      let response: Response;
      try {
        response = await handle(request);
      } catch (err) {
        // Elysia maps handler errors itself; this is a failure of Elysia.
        log.error({ err, reqId: id }, "request failed outside the handler");
        response = new Response("Internal server error", { status: 500 });
      }
      const seconds = (performance.now() - started) / 1000;
      response = withHeader(response, REQUEST_ID_HEADER, id);

      const path = pathOf(request.url);
      const method = methodLabel(request.method);
      const route = matchRoute(request.method, path);
      metrics.observeRequest(method, route, response.status, seconds);

      const level = QUIET_ROUTES.has(route) && response.status < 400 ? "debug" : "info";
      if (log.isLevelEnabled(level)) {
        access(level, {
          reqId: id,
          method,
          route,
          path,
          status: response.status,
          ms: Math.round(seconds * 10_000) / 10,
          client: clientAddress(root?.server, request, config.trustedProxies),
        });
      }
      return response;
    });
}

/** Sets a header, copying the response when its headers are immutable (fetched or static responses). */
function withHeader(response: Response, name: string, value: string): Response {
  try {
    response.headers.set(name, value);
    return response;
  } catch {
    const copy = new Response(response.body, response);
    copy.headers.set(name, value);
    return copy;
  }
}
