// Builds the HTTP surfaces. The web port serves the pages and the simulator
// API under /api; the API port serves the simulator API at its root.
import { Elysia } from "elysia";
import { simulatorApi } from "./api";
import type { AppDeps } from "./deps";
import { errorMapper } from "./errors";

export interface Apps {
  readonly web: Elysia;
  readonly api: Elysia;
}

const plainErrorPage = (status: number, message: string) =>
  `<!doctype html><title>${status} | MiniTwit</title><h1>MiniTwit</h1><p>${escapeText(message)}</p>`;

export function createApp(deps: AppDeps): Apps {
  const web = new Elysia({ name: "web-port" })
    .use(errorMapper(deps.log, (path) => path.startsWith("/api/"), plainErrorPage))
    .use(simulatorApi(deps, "/api"));
  const api = new Elysia({ name: "api-port" })
    .use(errorMapper(deps.log, () => true, plainErrorPage))
    .use(simulatorApi(deps));
  return { web: web as unknown as Elysia, api: api as unknown as Elysia };
}

function escapeText(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
