// The monitoring surface, on both ports: what Prometheus and the
// orchestrators ask.
// /metrics: the Prometheus exposition of this process. The registry holds
// request metrics from observe.ts, the business counters and the gauges
// computed at scrape time (src/metrics.ts). Prometheus scrapes only the web
// port of each replica; the API port answers the same text, for a deployment
// that exposes only that port to the monitor.
// /healthz: the process answers HTTP (liveness; restart it when this fails).
// /readyz: it can serve requests: the database answers and the schema is
// current (readiness; send traffic elsewhere while this fails). A replica
// started with --no-migrate stays unready until `minitwit migrate` has run;
// a stopping one answers "not ready: draining" from the signal on (drain.ts).
import { Elysia } from "elysia";
import { ping } from "../database";
import { pendingMigrations } from "../migrate";
import type { AppDeps } from "./deps";

// Well below a container HEALTHCHECK's timeout: a hung database yields a
// clear 503 rather than a probe that times out without a reason.
const DATABASE_TIMEOUT_MS = 2_000;

const TEXT = { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" };

export function monitoringRoutes(deps: AppDeps) {
  const { db } = deps.database;
  const { metrics } = deps;
  return new Elysia({ name: "monitoring-routes" })
    .get(
      "/metrics",
      async () =>
        new Response(await metrics.text(), {
          headers: { "content-type": metrics.contentType, "cache-control": "no-store" },
        }),
    )
    .get("/healthz", () => new Response("ok\n", { headers: TEXT }))
    .get("/readyz", async () => {
      if (deps.drain.draining) return new Response("not ready: draining\n", { status: 503, headers: TEXT });
      const reason = await notReadyReason(async () => {
        await ping(db);
        const pending = await pendingMigrations(db);
        return pending.length === 0 ? null : `pending migrations: ${pending.join(", ")}`;
      });
      if (reason === null) return new Response("ready\n", { headers: TEXT });
      deps.log.warn({ reason }, "not ready");
      return new Response(`not ready: ${reason}\n`, { status: 503, headers: TEXT });
    });
}

/** Runs the checks with a deadline; null when ready, else why not. */
async function notReadyReason(checks: () => Promise<string | null>): Promise<string | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`database did not answer within ${DATABASE_TIMEOUT_MS} ms`), DATABASE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([
      checks().catch((err: unknown) => `database unreachable: ${(err as Error)?.message ?? String(err)}`),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
