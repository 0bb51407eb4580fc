// The rehearsal's alert sink: the webhook every receiver of the rehearsal's
// Alertmanager posts to (ops/rehearsal/alertmanager.yml), compiled into a
// stand-in image by lib/images.sh and run as the service alert-sink on the
// monitoring network. It records what arrives, with the time it arrived:
//
//   POST /alerts, /heartbeat      Alertmanager's webhook JSON; recorded
//   GET  /received[?since=MS]     what arrived (since a Unix time in ms), JSON
//   GET  /check[?max=S]           the heartbeat check: {"ok", "ageSeconds",
//                                 "message"}, "no heartbeat for N s" when the
//                                 last one is older than S (default 180)
//
// Memory is bounded: the newest 5,000 deliveries are kept.
type Delivery = {
  at: number;
  time: string;
  path: string;
  status: string;
  alerts: { alertname: string; status: string; startsAt: string }[];
};

const KEEP = 5_000;
const received: Delivery[] = [];
let lastHeartbeat = 0;

function record(path: string, body: unknown): Delivery {
  const payload = (body ?? {}) as { status?: string; alerts?: Record<string, unknown>[] };
  const now = Date.now();
  const delivery: Delivery = {
    at: now,
    time: new Date(now).toISOString(),
    path,
    status: String(payload.status ?? ""),
    alerts: (payload.alerts ?? []).map((a) => ({
      alertname: String((a.labels as Record<string, string> | undefined)?.alertname ?? ""),
      status: String(a.status ?? ""),
      startsAt: String(a.startsAt ?? ""),
    })),
  };
  received.push(delivery);
  if (received.length > KEEP) received.splice(0, received.length - KEEP);
  if (path === "/heartbeat") lastHeartbeat = now;
  console.log(JSON.stringify(delivery));
  return delivery;
}

const server = Bun.serve({
  hostname: "0.0.0.0",
  port: Number(process.env.PORT ?? 9099),
  async fetch(request) {
    const url = new URL(request.url);
    if (request.method === "POST") {
      const text = await request.text();
      let body: unknown = null;
      try {
        body = JSON.parse(text);
      } catch {
        body = { status: "unparsable" };
      }
      record(url.pathname, body);
      return new Response("recorded\n");
    }
    if (url.pathname === "/received") {
      const since = Number(url.searchParams.get("since") ?? 0);
      return Response.json(received.filter((d) => d.at >= since));
    }
    if (url.pathname === "/check") {
      const max = Number(url.searchParams.get("max") ?? 180);
      const age = lastHeartbeat === 0 ? null : Math.round((Date.now() - lastHeartbeat) / 1000);
      const ok = age !== null && age <= max;
      const message =
        age === null ? "no heartbeat yet" : ok ? `last heartbeat ${age} s ago` : `no heartbeat for ${age} s`;
      return Response.json({ ok, ageSeconds: age, message });
    }
    if (url.pathname === "/healthz") return new Response("ok\n");
    return new Response("not found\n", { status: 404 });
  },
});
console.log(JSON.stringify({ msg: "alert sink listening", port: server.port }));
