// Builds the HTTP surfaces. The web port serves the pages and the simulator
// API under /api; the API port serves the simulator API at its root; the
// metrics port serves /metrics only (see monitoring.ts).
import { Elysia } from "elysia";
import { sessionSecret } from "../accounts/sessions";
import { simulatorApi } from "./api/routes";
import type { AppDeps } from "./deps";
import { bodyParsing } from "./middleware/body-parsing";
import { errorMapper } from "./middleware/error-mapper";
import { frontDoor } from "./middleware/front-door";
import { metricsRoute, PROBE_PATHS, probeRoutes } from "./monitoring/routes";
import { assets, STYLESHEET_PATH } from "./web/assets";
import { webContext } from "./web/context";
import { webPages } from "./web/routes";

export interface Apps {
  readonly web: Elysia;
  readonly api: Elysia;
  readonly metrics: Elysia;
}

export function createApp(deps: AppDeps): Apps {
  const events = {
    allowListRefused: () => deps.metrics.allowListRefused.inc(),
    rateLimited: () => deps.metrics.rateLimited.inc(),
  };
  const { maxBodyBytes } = deps.config.security;
  const pages = webContext(deps, sessionSecret(deps.config), STYLESHEET_PATH);
  const web = new Elysia({ name: "web-port" })
    .use(frontDoor(deps, { isApi: (path) => path.startsWith("/api/"), closeWhileDraining: true, events }))
    .use(bodyParsing(maxBodyBytes))
    .use(probeRoutes(deps))
    .use(errorMapper(deps.log, (path) => path.startsWith("/api/"), pages.errorPage))
    .use(assets)
    .use(simulatorApi(deps, "/api"))
    .use(webPages(deps, pages));
  const api = new Elysia({ name: "api-port" })
    .use(frontDoor(deps, { isApi: (path) => !PROBE_PATHS.includes(path), closeWhileDraining: true, events }))
    .use(bodyParsing(maxBodyBytes))
    .use(probeRoutes(deps))
    .use(errorMapper(deps.log, () => true, pages.errorPage))
    .use(simulatorApi(deps));
  const metrics = new Elysia({ name: "metrics-port" })
    .use(frontDoor(deps, { isApi: () => false, closeWhileDraining: false }))
    .use(bodyParsing(maxBodyBytes))
    .use(errorMapper(deps.log, () => false, pages.errorPage))
    .use(metricsRoute(deps));
  return { web: web as unknown as Elysia, api: api as unknown as Elysia, metrics: metrics as unknown as Elysia };
}
