// `minitwit healthcheck`: asks a running MiniTwit whether it is ready (or,
// with --live, only alive), for container HEALTHCHECKs in images that ship no
// curl or wget. Exit 0 when the probe answers 200; any other answer, a
// refused connection or a timeout throws, which `main` turns into exit 1
// with the reason on stderr.
import { UsageError } from "../errors";
import { defineCommand } from "./command";

// Short: a health check that hangs is itself a failure, and Docker's own
// HEALTHCHECK timeout (30 s by default) should never be what ends it.
const DEFAULT_TIMEOUT_MS = 3_000;

export const healthcheck = defineCommand({
  name: "healthcheck",
  summary: "exit 0 when a running MiniTwit is ready (or alive), 1 otherwise",
  settings: ["server"],
  usage: `Usage: minitwit healthcheck [options]

Requests the readiness probe of a running MiniTwit and exits 0 when it answers
200, 1 otherwise (not ready, not answering, or too slow). For container
HEALTHCHECKs:  HEALTHCHECK CMD ["minitwit", "healthcheck"]

With --live it requests the liveness probe (/healthz) instead: for an
orchestrator that restarts an unhealthy container (Docker Swarm), where a
readiness check would restart every replica during a database outage
instead of letting them answer 503 until the database is back.

Options:
  --live               ask /healthz (alive) rather than /readyz (ready)
  --url URL            what to request (default http://127.0.0.1:PORT/readyz)
  --port N             the web port, for the default URL (env PORT, default 5000)
  --timeout-ms N       give up after N milliseconds (default ${DEFAULT_TIMEOUT_MS})`,
  options: {
    live: { type: "boolean" },
    url: { type: "string" },
    port: { type: "integer", min: 1, max: 65_535 },
    "timeout-ms": { type: "duration", unit: "ms", min: 1, max: 600_000 },
  },
  async run({ config, options, out }) {
    const url = probeUrl(options.url, config.port, options.live === true);
    const timeoutMs = options["timeout-ms"] ?? DEFAULT_TIMEOUT_MS;
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
    } catch (err) {
      const reason = (err as Error)?.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : String(err);
      throw new Error(`${url}: ${reason}`, { cause: err });
    }
    const body = (await response.text()).trim().slice(0, 200);
    if (response.status !== 200) throw new Error(`${url}: ${response.status}${body === "" ? "" : ` ${body}`}`);
    out(`${url}: ${body || "200"}`);
  },
});

function probeUrl(given: string | undefined, port: number, live: boolean): string {
  if (given !== undefined && live) throw new UsageError("--live and --url exclude each other: --live asks /healthz");
  if (given === undefined) return `http://127.0.0.1:${port}/${live ? "healthz" : "readyz"}`;
  if (!URL.canParse(given) || !/^https?:$/.test(new URL(given).protocol)) {
    throw new UsageError(`--url must be an http:// or https:// URL, got "${given}"`);
  }
  return given;
}
