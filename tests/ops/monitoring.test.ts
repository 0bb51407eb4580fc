// The monitoring configuration in ops/monitoring is checked by the tools that
// will load it (promtool, amtool), its alert rules are unit-tested, and every
// metric the dashboard and the alerts query must be one something exports.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scrape } from "../support/scrape";
import { SIMULATOR_AUTH, startTestServer, type TestServer } from "../support/server";

const root = join(import.meta.dir, "..", "..");
const monitoring = join(root, "ops", "monitoring");
const read = (path: string) => readFileSync(join(monitoring, path), "utf8");

interface Rule {
  alert?: string;
  expr: string;
  labels?: Record<string, string>;
}
const rules = (Bun.YAML.parse(read("alerts.yml")) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
const dashboard = JSON.parse(read("grafana/dashboards/minitwit.json")) as {
  panels: { title: string; datasource: { uid: string }; targets: { expr: string }[] }[];
};
const dashboardExprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));

// Metrics that other processes export, so MiniTwit's /metrics cannot show them.
const EXPORTED_ELSEWHERE: Record<string, string> = {
  up: "Prometheus itself, for every target it scrapes",
  node_filesystem_avail_bytes: "node-exporter, on every node",
  node_filesystem_size_bytes: "node-exporter, on every node",
  minitwit_backup_last_success_timestamp_seconds: "the backup job (src/backup/schedule.ts)",
  minitwit_backup_last_size_bytes: "the backup job (src/backup/schedule.ts)",
  // postgres_exporter v0.20.1 (collector/*.go and exporter/postgres_exporter.go)
  pg_up: "postgres_exporter: whether it reached PostgreSQL",
  pg_stat_archiver_archived_count: "postgres_exporter, stat_archiver collector",
  pg_stat_archiver_failed_count: "postgres_exporter, stat_archiver collector",
  pg_stat_archiver_last_archive_age: "postgres_exporter, stat_archiver collector",
  pg_stat_database_tup_inserted: "postgres_exporter, stat_database collector",
  pg_stat_database_tup_updated: "postgres_exporter, stat_database collector",
  pg_stat_database_tup_deleted: "postgres_exporter, stat_database collector",
  pg_replication_slots_pg_wal_lsn_diff: "postgres_exporter, replication_slots collector",
  pg_stat_activity_count: "postgres_exporter, stat_activity collector",
  pg_settings_max_connections: "postgres_exporter, settings collector",
  pg_wal_size_bytes: "postgres_exporter, wal collector",
  pgbackrest_backup_last_completion_timestamp_seconds:
    "ops/postgres/pgbackrest-metrics.sh, through node-exporter's textfile collector (tests/backup/pitr.test.ts runs it)",
};

function tool(args: string[], cwd = monitoring) {
  let result: ReturnType<typeof Bun.spawnSync>;
  try {
    result = Bun.spawnSync(args, { cwd, stdout: "pipe", stderr: "pipe" });
  } catch {
    throw new Error(
      `${args[0]} is not installed: .ci/run installs it (apt packages prometheus, prometheus-alertmanager)`,
    );
  }
  return { code: result.exitCode, output: `${result.stdout?.toString()}${result.stderr?.toString()}` };
}

// The Alertmanager image the stack runs, and the Swarm secret the heartbeat's
// URL is read from (ops/swarm/stack.yml; Alertmanager's url_file needs 0.26).
const HEARTBEAT_URL_FILE = "/run/secrets/alertmanager_heartbeat_url";

/** A version "v0.28.1" or "0.25.0" as comparable numbers. */
function version(text: string): number[] {
  const m = /v?(\d+)\.(\d+)\.(\d+)/.exec(text);
  if (m === null) throw new Error(`no version in ${JSON.stringify(text)}`);
  return m.slice(1).map(Number);
}
const atLeast = (have: number[], want: number[]) => {
  for (let i = 0; i < want.length; i++) if (have[i] !== want[i]) return (have[i] ?? 0) > (want[i] ?? 0);
  return true;
};

/**
 * alertmanager.yml as the installed amtool can read it. Debian 12's amtool
 * (0.25) predates the webhook's `url_file` (0.26) and rejects the field, so
 * there the one url_file line is swapped for a stand-in `url`; the stack's
 * Alertmanager reads the file itself (checked below). Newer amtools check the
 * file as shipped.
 */
let amConfigDir: string | null = null;
function amtoolConfig(): string {
  const amtool = version(tool(["amtool", "--version"]).output);
  if (atLeast(amtool, [0, 26, 0])) return join(monitoring, "alertmanager.yml");
  const shipped = read("alertmanager.yml");
  const line = `url_file: ${HEARTBEAT_URL_FILE}`;
  if (shipped.split(line).length !== 2) throw new Error(`alertmanager.yml should have "${line}" once`);
  amConfigDir ??= mkdtempSync(join(tmpdir(), "minitwit-alertmanager-"));
  const path = join(amConfigDir, "alertmanager.yml");
  writeFileSync(path, shipped.replace(line, "url: https://heartbeat.invalid/ping/stand-in"));
  return path;
}
afterAll(() => {
  if (amConfigDir !== null) rmSync(amConfigDir, { recursive: true, force: true });
});

/** The receivers `amtool config routes test` sends an alert with these labels to. */
function routeOf(labels: Record<string, string>): string[] {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  const { code, output } = tool(["amtool", "config", "routes", "test", `--config.file=${amtoolConfig()}`, ...pairs]);
  if (code !== 0) throw new Error(`amtool config routes test ${pairs.join(" ")}: ${output}`);
  const lines = output.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("Warning:"));
  return lines.flatMap((l) => l.split(",").map((r) => r.trim()));
}

/** The metric names a PromQL expression reads: not functions, keywords, labels or durations. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "");
  const keywords = new Set(["and", "or", "unless", "offset", "bool", "inf", "nan"]);
  const names = new Set<string>();
  for (const m of bare.matchAll(/\b[a-zA-Z_:][a-zA-Z0-9_:]*\b/g)) {
    const isCall = bare
      .slice((m.index ?? 0) + m[0].length)
      .trimStart()
      .startsWith("(");
    if (!isCall && !keywords.has(m[0].toLowerCase())) names.add(m[0]);
  }
  return [...names];
}

describe("promtool and amtool accept the configuration", () => {
  test.each([
    ["promtool check config prometheus.yml", ["promtool", "check", "config", "prometheus.yml"]],
    ["promtool check rules alerts.yml", ["promtool", "check", "rules", "alerts.yml"]],
    ["promtool test rules alerts.test.yml", ["promtool", "test", "rules", "alerts.test.yml"]],
    ["amtool check-config alertmanager.yml", ["amtool", "check-config"]],
  ])(
    "%s",
    (_, args) => {
      const { code, output } = tool(args[1] === "check-config" ? [...args, amtoolConfig()] : args);
      expect({ code, output }).toEqual({ code: 0, output: expect.stringContaining("SUCCESS") });
    },
    // promtool's rule tests evaluate every rule each minute over days of
    // input: about 20 s of CPU, a minute on a busy 2-core machine.
    180_000,
  );

  test("the dashboard's queries are valid PromQL", () => {
    // promtool has no query linter; recording rules are checked as PromQL.
    const dir = mkdtempSync(join(tmpdir(), "minitwit-dashboard-"));
    try {
      const recorded = dashboardExprs.map((expr, i) => ({
        record: `dashboard:query_${i}`,
        expr: expr.replaceAll("$__rate_interval", "5m"),
      }));
      writeFileSync(join(dir, "dashboard.yml"), JSON.stringify({ groups: [{ name: "dashboard", rules: recorded }] }));
      const { code, output } = tool(["promtool", "check", "rules", "dashboard.yml"], dir);
      expect({ code, output }).toEqual({ code: 0, output: expect.stringContaining(`${recorded.length} rules found`) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test("every alert has a unit test where it fires and one where it does not (Watchdog only fires)", () => {
  const suite = Bun.YAML.parse(read("alerts.test.yml")) as {
    tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
  };
  const cases = suite.tests.flatMap((t) => t.alert_rule_test ?? []);
  const coverage = rules
    .filter((r) => r.alert !== undefined)
    .map((r) => ({
      alert: r.alert,
      fires: cases.some((c) => c.alertname === r.alert && c.exp_alerts.length > 0),
      // The dead man's switch never stays quiet: firing always is its job.
      staysQuiet: r.alert === "Watchdog" || cases.some((c) => c.alertname === r.alert && c.exp_alerts.length === 0),
    }));
  expect(coverage.length).toBeGreaterThanOrEqual(16);
  expect(coverage.filter((c) => !c.fires || !c.staysQuiet)).toEqual([]);
});

describe("the dead man's switch", () => {
  const am = Bun.YAML.parse(read("alertmanager.yml")) as {
    route: { routes: Record<string, unknown>[] };
    receivers: { name: string; webhook_configs?: Record<string, unknown>[]; email_configs?: unknown[] }[];
  };

  test("Watchdog is the only always-firing rule, and reads no metric", () => {
    const watchdog = rules.filter((r) => r.alert === "Watchdog");
    expect(watchdog).toEqual([
      { alert: "Watchdog", expr: "vector(1)", labels: { severity: "none" }, annotations: expect.anything() } as Rule,
    ]);
    expect(rules.filter((r) => r.alert !== "Watchdog" && /^\s*vector\(/.test(r.expr))).toEqual([]);
  });

  test("Watchdog goes to the heartbeat receiver only; every other alert to the operators only", () => {
    const routed = rules
      .filter((r) => r.alert !== undefined)
      .map((r) => ({ alert: r.alert, receivers: routeOf({ alertname: r.alert as string, ...r.labels }) }));
    expect(routed.length).toBeGreaterThanOrEqual(16);
    expect(routed).toEqual(
      routed.map((r) => ({ alert: r.alert, receivers: r.alert === "Watchdog" ? ["heartbeat"] : ["operators"] })),
    );
  });

  test.each([
    [
      "a Watchdog labelled critical still goes only to the heartbeat",
      { alertname: "Watchdog", severity: "critical" },
      "heartbeat",
    ],
    ["an alert without a severity goes to the operators", { alertname: "SomethingNew" }, "operators"],
    [
      "a critical alert from any job goes to the operators",
      { alertname: "X", severity: "critical", job: "node" },
      "operators",
    ],
  ])("%s", (_, labels, receiver) => {
    expect(routeOf(labels)).toEqual([receiver]);
  });

  test("the heartbeat route repeats about every minute and lets nothing through to other routes", () => {
    const first = am.route.routes[0] as NonNullable<(typeof am.route.routes)[number]>;
    expect(first).toMatchObject({ matchers: ['alertname="Watchdog"'], receiver: "heartbeat" });
    expect(first.continue ?? false).toBe(false);
    const seconds = (d: unknown) => {
      const m = /^(\d+)(s|m)$/.exec(String(d));
      if (m === null) throw new Error(`unexpected duration ${String(d)}`);
      return Number(m[1]) * (m[2] === "m" ? 60 : 1);
    };
    // A resend happens at a flush (every group_interval) once repeat_interval has passed.
    expect(seconds(first.group_interval)).toBeLessThanOrEqual(60);
    expect(seconds(first.repeat_interval)).toBeLessThan(seconds(first.group_interval));
  });

  test("Alertmanager delivers Watchdog to the heartbeat URL at once, and the other alerts elsewhere", async () => {
    // The shipped configuration in the installed Alertmanager (Debian's
    // 0.25), its heartbeat URL pointed at a sink here; the e-mail cannot
    // leave this machine, so only its attempts are counted.
    const binary = Bun.which("alertmanager") ?? Bun.which("prometheus-alertmanager");
    if (binary === null) throw new Error("Alertmanager is not installed: .ci/run installs prometheus-alertmanager");
    const received: { receiver: string; status: string; alerts: string[] }[] = [];
    const sink = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: async (request) => {
        const body = (await request.json()) as {
          receiver: string;
          status: string;
          alerts: { labels: Record<string, string> }[];
        };
        received.push({
          receiver: body.receiver,
          status: body.status,
          alerts: body.alerts.map((a) => a.labels.alertname as string),
        });
        return new Response("OK");
      },
    });
    const dir = mkdtempSync(join(tmpdir(), "minitwit-alertmanager-run-"));
    const free = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
    const port = free.port;
    free.stop(true);
    const config = join(dir, "alertmanager.yml");
    writeFileSync(
      config,
      readFileSync(amtoolConfig(), "utf8").replace(/url: \S+/, `url: http://127.0.0.1:${sink.port}/ping`),
    );
    const am = Bun.spawn(
      [
        binary,
        `--config.file=${config}`,
        `--storage.path=${dir}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--cluster.listen-address=",
      ],
      { stdout: "ignore", stderr: "pipe" },
    );
    const base = `http://127.0.0.1:${port}`;
    const until = async (done: () => Promise<boolean> | boolean, ms: number) => {
      for (const end = Date.now() + ms; Date.now() < end; await Bun.sleep(200)) if (await done()) return true;
      return false;
    };
    try {
      expect(
        await until(
          () =>
            fetch(`${base}/-/ready`).then(
              (r) => r.ok,
              () => false,
            ),
          10_000,
        ),
      ).toBe(true);
      const now = Date.now();
      const alert = (labels: Record<string, string>) => ({
        labels,
        startsAt: new Date(now).toISOString(),
        endsAt: new Date(now + 10 * 60_000).toISOString(),
      });
      const posted = await fetch(`${base}/api/v2/alerts`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify([
          alert({ alertname: "Watchdog", severity: "none" }),
          alert({ alertname: "PostgresDown", severity: "critical", job: "postgres", instance: "10.0.2.5:9187" }),
        ]),
      });
      expect(posted.status).toBe(200);
      // Watchdog's group_wait is 0 s; the critical route's is 10 s: wait past it.
      expect(await until(() => received.length > 0, 5_000)).toBe(true);
      const emailed = async () => {
        const metrics = await (await fetch(`${base}/metrics`)).text();
        return Number(/^alertmanager_notifications_total\{integration="email"\} (\d+)/m.exec(metrics)?.[1] ?? 0);
      };
      expect(await until(async () => (await emailed()) > 0, 15_000)).toBe(true);
      expect(received).toEqual([{ receiver: "heartbeat", status: "firing", alerts: ["Watchdog"] }]);
    } finally {
      am.kill();
      await am.exited;
      sink.stop(true);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the heartbeat URL is a Swarm secret, read through url_file by an Alertmanager that supports it", () => {
    const heartbeat = am.receivers.find((r) => r.name === "heartbeat");
    expect(heartbeat).toEqual({
      name: "heartbeat",
      webhook_configs: [{ url_file: HEARTBEAT_URL_FILE, send_resolved: false, max_alerts: 1 }],
    });
    // biome-ignore lint/suspicious/noExplicitAny: the stack file is walked freely and checked by the assertions.
    const stack = Bun.YAML.parse(readFileSync(join(root, "ops", "swarm", "stack.yml"), "utf8")) as any;
    const alertmanager = stack.services.alertmanager;
    const secret = HEARTBEAT_URL_FILE.replace("/run/secrets/", "");
    expect(alertmanager.secrets).toContain(secret);
    expect(stack.secrets[secret]).toEqual({ external: true });
    // url_file came with Alertmanager 0.26; 0.28.0 fixed a crash when using it.
    const image = /^prom\/alertmanager:(v[\d.]+)$/.exec(alertmanager.image)?.[1] ?? "none";
    expect({ image, supportsUrlFile: atLeast(version(image), [0, 28, 0]) }).toEqual({ image, supportsUrlFile: true });
  });
});

describe("the operators' documents match the configuration", () => {
  test("docs/operations.md has a runbook row for every alert, and none for an alert that does not exist", () => {
    const doc = readFileSync(join(root, "docs", "operations.md"), "utf8");
    const start = doc.indexOf("\n## Alerts\n");
    expect(start).toBeGreaterThan(-1);
    const section = doc.slice(start + 1).split(/\n## /)[0] as string;
    const rows = [...section.matchAll(/^\| `(\w+)` \((\w+)\) \|(.*)\|$/gm)].map((m) => ({
      alert: m[1],
      severity: m[2],
      columns: (m[3] as string).split(/(?<!\\)\|/).filter((c) => c.trim() !== "").length,
    }));
    const alerts = rules.filter((r) => r.alert !== undefined);
    expect(rows.map((r) => r.alert).sort()).toEqual(alerts.map((r) => r.alert as string).sort());
    // Each row: what it means, the first look, the fix; the severity as in alerts.yml.
    expect(rows.filter((r) => r.columns !== 3)).toEqual([]);
    expect(rows.map((r) => [r.alert, r.severity])).toEqual(
      rows.map((r) => [r.alert, alerts.find((a) => a.alert === r.alert)?.labels?.severity]),
    );
  });

  test("ops/README.md names the ports Prometheus scrapes", () => {
    const readme = readFileSync(join(root, "ops", "README.md"), "utf8").replace(/\s+/g, " ");
    const config = Bun.YAML.parse(read("prometheus.yml")) as {
      scrape_configs: { job_name: string; dns_sd_configs?: { names: string[]; port: number }[] }[];
    };
    const targets = config.scrape_configs.flatMap((j) => j.dns_sd_configs ?? []);
    expect(targets.length).toBeGreaterThanOrEqual(4);
    const named = targets.flatMap(({ names }) =>
      names.map((name) => {
        const written = new RegExp(`\`${name}\` \\((?:port )?(\\d+)`).exec(readme)?.[1];
        return { name, port: written === undefined ? "not named" : Number(written) };
      }),
    );
    expect(named).toEqual(targets.flatMap(({ names, port }) => names.map((name) => ({ name, port }))));
  });
});

test("the alert e-mail's SMTP password is read from a file, never written in the config", () => {
  const global = (Bun.YAML.parse(read("alertmanager.yml")) as { global: Record<string, unknown> }).global;
  expect(global.smtp_auth_password_file).toBe("/run/secrets/alertmanager_smtp_password");
  expect(global.smtp_auth_password).toBeUndefined();
});

test("the dashboard has the panels operators look at, all on a provisioned data source", () => {
  const titles = dashboard.panels.map((p) => p.title);
  for (const wanted of [
    "Responses by status, last minute",
    "Error responses",
    "Latency p50 / p95 / p99",
    "Average latency",
    "Total registered users",
    "New users per minute",
    "Messages per minute",
    "Follows per minute",
    "Latest simulator action id",
  ]) {
    expect(titles).toContain(wanted);
  }
  const sources = Bun.YAML.parse(
    readFileSync(join(monitoring, "grafana/provisioning/datasources/datasources.yml"), "utf8"),
  ) as { datasources: { uid: string }[] };
  const uids = sources.datasources.map((d) => d.uid);
  expect(dashboard.panels.filter((p) => !uids.includes(p.datasource.uid)).map((p) => p.title)).toEqual([]);
});

describe("every metric the dashboard and the alerts query is exported", () => {
  let server: TestServer;
  let exported: Set<string>;

  beforeAll(async () => {
    server = await startTestServer("postgres");
    // Traffic that touches every counter and the request histogram.
    const post = (path: string, body: unknown) =>
      fetch(server.api + path, {
        method: "POST",
        headers: { authorization: SIMULATOR_AUTH, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    for (const name of ["a", "b"]) await post("/register?latest=1", { username: name, email: `${name}@x`, pwd: "p" });
    await post("/msgs/a", { content: "hi" });
    await post("/fllws/a", { follow: "b" });
    await post("/fllws/a", { unfollow: "b" });
    exported = new Set((await scrape(server.metrics)).map((s) => s.name));
  });
  afterAll(() => server.stop());

  // Watchdog's vector(1) reads no metric (tested above).
  const queried = [
    ...rules.filter((r) => r.alert !== "Watchdog").map((r) => [`alert ${r.alert}`, r.expr] as const),
    ...dashboard.panels.flatMap((p) => p.targets.map((t) => [`panel "${p.title}"`, t.expr] as const)),
  ];

  test.each(queried)("%s", (_, expr) => {
    const names = metricNames(expr);
    expect(names.length).toBeGreaterThan(0);
    const missing = names.filter((n) => !exported.has(n) && EXPORTED_ELSEWHERE[n] === undefined);
    expect(missing).toEqual([]);
  });

  test("every metric on the allow-list is queried somewhere, so the list stays true", () => {
    const used = new Set(queried.flatMap(([, expr]) => metricNames(expr)));
    expect(Object.keys(EXPORTED_ELSEWHERE).filter((n) => !used.has(n))).toEqual([]);
    expect(Object.keys(EXPORTED_ELSEWHERE).filter((n) => exported.has(n))).toEqual([]);
  });
});

test.each([
  [
    'sum(rate(http_requests_total{job="minitwit",status=~"5.."}[5m])) / sum(rate(x_total[5m]))',
    ["http_requests_total", "x_total"],
  ],
  ["histogram_quantile(0.99, sum by (le) (rate(a_bucket[$__rate_interval])))", ["a_bucket"]],
  ["predict_linear(b[6h], 24 * 3600) < 0 and c / d < 0.4", ["b", "c", "d"]],
  ["time() - max(e) > 26 * 3600 or absent_over_time(e[26h])", ["e"]],
  ['absent(up{job="minitwit"} == 1)', ["up"]],
])("metricNames(%s)", (expr, names) => {
  expect(metricNames(expr).sort()).toEqual(names);
});
