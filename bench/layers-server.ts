// The server side of `bun run bench layers`: MiniTwit's API port built from
// some of its layers, on a stand-in database that answers every statement at
// once, listening on a free port (printed on stderr as `PORT n`). Run as
// `bun bench/layers-server.ts <layer>[,<layer>...]`, where a layer is one of
// LAYERS; `bun` alone is Bun.serve with the same store calls and no framework.
import { Elysia } from "elysia";
import { loadConfig } from "../src/config/settings";
import type { Database } from "../src/database/open";
import { simulatorApi } from "../src/http/api/routes";
import { createApp } from "../src/http/app";
import { type AppDeps, appDeps } from "../src/http/deps";
import { bodyParsing } from "../src/http/middleware/body-parsing";
import { errorMapper } from "../src/http/middleware/error-mapper";
import { frontDoor } from "../src/http/middleware/front-door";
import { PROBE_PATHS, probeRoutes } from "../src/http/monitoring/routes";
import { createLogger } from "../src/observability/log";
import { followByName, unfollowByName } from "../src/store/followers";
import { postMessageByUsername } from "../src/store/messages";

/** The layers of createApp's API port, in the order it stacks them. */
export const LAYERS = ["door", "body", "probes", "errors", "api"] as const;
export type Layer = (typeof LAYERS)[number];

// One row that satisfies every write: a user found, a target found, a message inserted.
const ROW = { who: 1, whom: 2, message_id: 1 };
// The fixed statements (src/database/queries.ts) run on the driver's client; this one answers at once.
const client = { unsafe: () => Promise.resolve([ROW]) };
const database = {
  db: { $client: client, execute: () => Promise.resolve([]) },
  driver: "postgres",
  location: "stand-in",
  poolStats: () => ({ size: 10, idle: 10 }),
  close: () => Promise.resolve(),
} as unknown as Database;
const { db } = database;

type Body = { content?: string; follow?: string; unfollow?: string };

/** The three writes without any layer: what the store is asked, and 204. */
async function write(path: string, username: string, body: Body): Promise<void> {
  if (path.startsWith("/msgs/")) await postMessageByUsername(db, username, body.content ?? "", 1);
  else if (body.follow !== undefined) await followByName(db, username, body.follow);
  else await unfollowByName(db, username, body.unfollow ?? "");
}

function deps(): AppDeps {
  const config = loadConfig({
    DATABASE_URL: "postgres://bench@127.0.0.1/stand-in",
    HOST: "127.0.0.1",
    LOG_LEVEL: "info",
  });
  return appDeps(config, database, createLogger("info"));
}

interface RouteContext {
  readonly params: { username: string };
  readonly body: unknown;
  readonly path: string;
  readonly set: { status?: number | string };
}

function stacked(layers: readonly Layer[]) {
  const d = deps();
  let app = new Elysia({ name: "api-port" }) as unknown as Elysia;
  const use = (layer: Layer, plugin: () => unknown) => {
    if (layers.includes(layer)) app = app.use(plugin() as Elysia) as unknown as Elysia;
  };
  use("door", () =>
    frontDoor(d, { isApi: (path) => !PROBE_PATHS.includes(path), closeWhileDraining: true, quietRoutes: PROBE_PATHS }),
  );
  use("body", () => bodyParsing(d.config.security.maxBodyBytes));
  use("probes", () => probeRoutes(d));
  const noPage = () => "";
  use("errors", () => errorMapper(d.log, () => true, noPage));
  if (layers.includes("api")) return app.use(simulatorApi(d));
  const route = ({ params, body, path, set }: RouteContext) =>
    write(path, params.username, body as Body).then(() => {
      set.status = 204;
    });
  return app.post("/msgs/:username", route).post("/fllws/:username", route);
}

const listen = { hostname: "127.0.0.1", port: 0, reusePort: false, maxRequestBodySize: Number.MAX_SAFE_INTEGER };

/** Starts the variant named by `what` and prints its port. */
function serve(what: string): void {
  if (what === "bun") {
    const server = Bun.serve({
      ...listen,
      async fetch(request) {
        const path = new URL(request.url).pathname;
        await write(path, path.slice(path.lastIndexOf("/") + 1), (await request.json()) as Body);
        return new Response(null, { status: 204 });
      },
    });
    console.error(`PORT ${server.port}`);
  } else if (what === "minitwit") {
    const { api } = createApp(deps());
    api.listen(listen);
    console.error(`PORT ${api.server?.port}`);
  } else {
    const layers = what === "" ? [] : what.split(",");
    const unknown = layers.filter((l) => !(LAYERS as readonly string[]).includes(l));
    if (unknown.length > 0) throw new Error(`unknown layer ${unknown.join(", ")}; one of ${LAYERS.join(", ")}`);
    const app = stacked(layers as Layer[]);
    app.listen(listen);
    console.error(`PORT ${app.server?.port}`);
  }
}

if (import.meta.main) serve(process.argv[2] ?? "");
