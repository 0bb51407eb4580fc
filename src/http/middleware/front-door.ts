// Wraps each port's whole request handler, so that every request passes one
// door in and out: it gets its id, the guard may refuse it before any route
// runs, and on the way out its response gets the id, the guard's headers, a
// count in the metrics and the access line. Wrapping the handler, rather than
// hooking Elysia's lifecycle, also sees the responses that never reach a
// route (refusals, unknown paths, errors) and keeps Elysia's per-request work
// to routing and the route itself.
import { type AnyElysia, Elysia } from "elysia";
import type { AppDeps } from "../deps";
import { type GuardEvents, guard } from "./guard";
import { identify, REQUEST_ID_HEADER, requestRecorder } from "./observe";
import { type Peer, pathOf } from "./request-origin";
import { type RouteMatcher, routeMatcher, UNMATCHED } from "./route-template";

export interface DoorOptions {
  /** Which paths belong to the simulator API on this port. */
  readonly isApi: (path: string) => boolean;
  /** Whether responses close their connection while the replica drains. */
  readonly closeWhileDraining: boolean;
  readonly events?: GuardEvents;
  /** Routes whose successes are logged at debug: the monitors' probes and scrapes. */
  readonly quietRoutes: readonly string[];
}

type Handler = (request: Request) => Response | Promise<Response>;

export function frontDoor(deps: AppDeps, options: DoorOptions) {
  const { isApi } = options;
  const gate = guard(deps, options.closeWhileDraining, options.events);
  const record = requestRecorder(deps, options.quietRoutes);
  // Known once the app listens: its route table and its server (for the peer address).
  let server: Peer | null = null;
  let matchRoute: RouteMatcher = () => UNMATCHED;

  return new Elysia({ name: "front-door" })
    .onStart((app) => {
      server = (app as unknown as { server: Peer | null }).server;
      matchRoute = routeMatcher((app as AnyElysia).routes);
    })
    .wrap((next) => async (request: Request) => {
      const started = performance.now();
      const id = identify(request);
      const path = pathOf(request.url);
      const api = isApi(path);
      let response = gate.admit(request, server, path, api);
      if (response === null) {
        try {
          response = await (next as unknown as Handler)(request);
        } catch (err) {
          // Elysia maps handler errors itself; this is a failure of Elysia.
          deps.log.error({ err, reqId: id }, "request failed outside the handler");
          response = new Response("Internal server error", { status: 500 });
        }
      }
      const seconds = (performance.now() - started) / 1000;
      response = withHeader(response, REQUEST_ID_HEADER, id);
      gate.decorate(response.headers, request, server, api);
      const route = matchRoute(request.method, path);
      record({ request, id, path, route, status: response.status, seconds, server });
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
