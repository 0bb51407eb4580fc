// Builds the HTTP surfaces. The web port serves the pages and the simulator
// API under /api; the API port serves the simulator API at its root; the
// metrics port serves /metrics only (monitoring/routes.ts).
import { Elysia } from "elysia";
import { simulatorApi } from "./api/routes";
import type { AppDeps } from "./deps";
import { bodyParsing } from "./middleware/body-parsing";
import { errorMapper } from "./middleware/error-mapper";
import { frontDoor } from "./middleware/front-door";
import { METRICS_PATH, metricsRoute, PROBE_PATHS, probeRoutes } from "./monitoring/routes";
import { assets, STYLESHEET_PATH } from "./web/assets";
import { webContext } from "./web/context";
import { sessionSecret } from "./web/cookies";
import { webPages } from "./web/routes";

export interface Apps {
  readonly web: Elysia;
  readonly api: Elysia;
  readonly metrics: Elysia;
}

/** The monitors' probes and scrapes: every few seconds from each, so their successes are logged at debug. */
const QUIET_ROUTES = [...PROBE_PATHS, METRICS_PATH];

/** Per port, which paths are the simulator API's: they get JSON errors and the API's guard. */
const API_PATHS = {
  web: (path: string) => path.startsWith("/api/"),
  api: (path: string) => !PROBE_PATHS.includes(path),
  metrics: (_path: string) => false,
} as const;

export function createApp(deps: AppDeps): Apps {
  const events = {
    allowListRefused: () => deps.metrics.allowListRefused.inc(),
    rateLimited: () => deps.metrics.rateLimited.inc(),
  };
  const pages = webContext(deps, sessionSecret(deps.config), STYLESHEET_PATH);
  // What every port puts in front of its routes: the front door (guard,
  // headers, request record), the body parser and the one error mapper.
  const port = (name: keyof typeof API_PATHS, closeWhileDraining: boolean) =>
    new Elysia({ name: `${name}-port` })
      .use(frontDoor(deps, { isApi: API_PATHS[name], closeWhileDraining, events, quietRoutes: QUIET_ROUTES }))
      .use(bodyParsing(deps.config.security.maxBodyBytes))
      .use(errorMapper(deps.log, API_PATHS[name], pages.errorPage));
  const web = port("web", true)
    .use(probeRoutes(deps))
    .use(assets)
    .use(simulatorApi(deps, "/api"))
    .use(webPages(deps, pages));
  const api = port("api", true).use(probeRoutes(deps)).use(simulatorApi(deps));
  const metrics = port("metrics", false).use(metricsRoute(deps));
  return { web: web as unknown as Elysia, api: api as unknown as Elysia, metrics: metrics as unknown as Elysia };
}
