// The monitoring surface: what Prometheus and the orchestrators ask.
// /metrics: the Prometheus exposition of this process, on its own port
// (METRICS_PORT) that the proxy never routes to; Prometheus scrapes it on the
// overlay network. The registry holds request metrics from middleware/observe.ts,
// the business counters (src/observability/metrics.ts) and the gauges computed
// from the database at scrape time (gauges.ts).
// /healthz: the process answers HTTP (liveness; restart it when this fails).
// /readyz: it can serve requests: the database answers, no move retired it
// and the schema is current (readiness; send traffic elsewhere while this fails). A replica
// started with --no-migrate stays unready until `minitwit migrate` has run.
// The probes stay on both app ports, where the container health check and
// the deploy script ask them.
// Each answers on its exact path only: Elysia would also route `/readyz/`
// (and a client's `/readyz/.`) here, and a proxy that blocks exact paths
// would let those through.
// A stopping replica answers "not ready: draining" from the signal on (drain.ts).
import { Elysia } from "elysia";
import { ping } from "../../database/faults";
import { pendingMigrations } from "../../database/migrate";
import { HttpError } from "../../errors";
import type { AppDeps } from "../deps";
import { pathOf } from "../middleware/request-origin";

// Well below a container HEALTHCHECK's timeout: a hung database yields a
// clear 503 rather than a probe that times out without a reason.
const DATABASE_TIMEOUT_MS = 2_000;

const TEXT = { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" };

/** The paths this surface serves; the guard exempts them from the API's checks. */
export const PROBE_PATHS: readonly string[] = ["/healthz", "/readyz"];
export const METRICS_PATH = "/metrics";

function exactly(path: string) {
  return ({ request }: { request: Request }) => {
    if (pathOf(request.url) !== path) throw new HttpError(404, "Not found");
  };
}

export function metricsRoute(deps: AppDeps) {
  const { metrics } = deps;
  return new Elysia({ name: "metrics-route" }).get(
    METRICS_PATH,
    async () =>
      new Response(await metrics.text(), {
        headers: { "content-type": metrics.contentType, "cache-control": "no-store" },
      }),
    { beforeHandle: exactly(METRICS_PATH) },
  );
}

export function probeRoutes(deps: AppDeps) {
  const { db } = deps.database;
  return new Elysia({ name: "probe-routes" })
    .get("/healthz", () => new Response("ok\n", { headers: TEXT }), { beforeHandle: exactly("/healthz") })
    .get(
      "/readyz",
      async () => {
        if (deps.drain.draining) return new Response("not ready: draining\n", { status: 503, headers: TEXT });
        const reason = await notReadyReason(async () => {
          await ping(db);
          // A database a move retired still answers, read-only: the proxy must stop sending traffic here.
          const problem = deps.database.problem();
          if (problem !== null) return problem;
          const pending = await pendingMigrations(db);
          return pending.length === 0 ? null : `pending migrations: ${pending.join(", ")}`;
        });
        if (reason === null) return new Response("ready\n", { headers: TEXT });
        deps.log.warn({ reason }, "not ready");
        return new Response(`not ready: ${reason}\n`, { status: 503, headers: TEXT });
      },
      { beforeHandle: exactly("/readyz") },
    );
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
