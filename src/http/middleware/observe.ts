// What the front door (front-door.ts) knows of every request once it is
// answered: its id (the caller's X-Request-Id when it is a sane token, else a
// new one, returned in the response), its count and duration in the metrics,
// and its one access line.
import { accessLog } from "../../observability/log";
import type { AppDeps } from "../deps";
import { clientAddress, type Peer } from "./request-origin";
import { methodLabel } from "./route-template";

export const REQUEST_ID_HEADER = "x-request-id";

// Letters, digits and the punctuation tracing systems use; nothing that could
// break a log line or a header.
const SANE_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:/+=@-]{0,127}$/;

const ids = new WeakMap<Request, string>();

/** The id given to this request; for error logs that happen inside the handler. */
export function requestId(request: Request): string | undefined {
  return ids.get(request);
}

export function acceptedRequestId(header: string | null): string | null {
  return header !== null && SANE_REQUEST_ID.test(header) ? header : null;
}

/** Gives the request its id, remembered for requestId(). */
export function identify(request: Request): string {
  const id = acceptedRequestId(request.headers.get(REQUEST_ID_HEADER)) ?? crypto.randomUUID();
  ids.set(request, id);
  return id;
}

export interface Answered {
  readonly request: Request;
  readonly id: string;
  readonly path: string;
  /** The route template the path matched (route-template.ts). */
  readonly route: string;
  readonly status: number;
  readonly seconds: number;
  readonly server: Peer | null;
}

/** Records an answered request in the metrics and the access log. */
/**
 * Counts and logs each answered request. Successes on `quietRoutes` (the
 * probes and scrapes that arrive every few seconds from every monitor) are
 * logged at debug, so they do not drown the access log.
 */
export function requestRecorder(deps: AppDeps, quietRoutes: readonly string[]): (answered: Answered) => void {
  const quiet = new Set(quietRoutes);
  const { metrics, log, config } = deps;
  const access = accessLog(log);
  return ({ request, id, path, route, status, seconds, server }) => {
    const method = methodLabel(request.method);
    metrics.observeRequest(method, route, status, seconds);
    const level = quiet.has(route) && status < 400 ? "debug" : "info";
    if (!log.isLevelEnabled(level)) return;
    access(level, {
      reqId: id,
      method,
      route,
      path,
      status,
      ms: Math.round(seconds * 10_000) / 10,
      client: clientAddress(server, request, config.trustedProxies),
    });
  };
}
