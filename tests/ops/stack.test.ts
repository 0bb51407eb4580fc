// The Swarm stack as Docker renders it (`docker stack config`, which needs
// no engine): safe rolling updates, nothing private published, secrets only
// as Swarm secrets, log rotation everywhere, immutable image tags, and the
// service names the monitoring configuration expects.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..", "..");
const stackFile = join(root, "ops", "swarm", "stack.yml");

const ENV = {
  MINITWIT_IMAGE: "ghcr.io/example/minitwit",
  MINITWIT_VERSION: "1.4.0",
  DOMAIN: "minitwit.example.org",
  ACME_EMAIL: "ops@example.org",
  S3_ENDPOINT: "https://fra1.digitaloceanspaces.com",
  S3_BUCKET: "minitwit-backups",
};

// biome-ignore lint/suspicious/noExplicitAny: rendered YAML is walked freely and checked by the assertions.
type Yaml = any;

function render(env: Record<string, string>) {
  const docker = Bun.which("docker");
  if (docker === null) throw new Error("the docker client is not installed (it renders the stack without an engine)");
  const result = Bun.spawnSync([docker, "stack", "config", "-c", stackFile], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

const rendered = render(ENV);
const stack: Yaml = rendered.code === 0 ? Bun.YAML.parse(rendered.stdout) : {};
const services: [string, Yaml][] = Object.entries(stack.services ?? {});
const service = (name: string): Yaml => stack.services[name];

test("docker stack config renders the stack without error", () => {
  expect(rendered.stderr).toBe("");
  expect(rendered.code).toBe(0);
  expect(services.length).toBeGreaterThanOrEqual(10);
});

test("the database's address lives in one place, read by MiniTwit, the backup service and the migrations", () => {
  const address = readFileSync(join(root, "ops", "swarm", "database-url"), "utf8").trim();
  expect(address).toMatch(/^postgres:\/\/minitwit@/);
  expect(stack.configs.database_url.file).toEndWith("ops/swarm/database-url");
  for (const name of ["minitwit", "backup"]) {
    expect(service(name).environment.DATABASE_URL_FILE).toBe("/run/configs/database_url");
    expect(service(name).configs).toContainEqual(expect.objectContaining({ source: "database_url" }));
  }
  const literals = services.filter(([, svc]) => Object.keys(svc.environment ?? {}).includes("DATABASE_URL"));
  expect(literals.map(([name]) => name)).toEqual([]);
});

describe("MiniTwit", () => {
  test("runs `minitwit serve` in 3 replicas of the given version", () => {
    const app = service("minitwit");
    expect(app.image).toBe("ghcr.io/example/minitwit:1.4.0");
    expect(app.command).toEqual(["serve"]);
    expect(app.deploy.replicas).toBe(3);
    expect(app.deploy.labels["minitwit.version"]).toBe("1.4.0");
  });

  test("updates one replica at a time, new before old, rolling back on failure", () => {
    const { update_config: update, rollback_config: rollback } = service("minitwit").deploy;
    expect(update).toMatchObject({ parallelism: 1, order: "start-first", failure_action: "rollback" });
    expect(update.monitor).toMatch(/^[1-9]\d*m|^[1-9]\d*s/);
    expect(rollback).toMatchObject({ parallelism: 1, order: "start-first" });
    // Start-first needs a free slot on some node: one per node would block the update.
    expect(service("minitwit").deploy.placement.max_replicas_per_node ?? 99).toBeGreaterThan(1);
  });

  // Liveness, not readiness: Swarm replaces an unhealthy task, and a
  // readiness check would replace every replica while PostgreSQL is away.
  test("is healthy while `minitwit healthcheck --live` passes", () => {
    expect(service("minitwit").healthcheck.test).toEqual(["CMD", "/usr/local/bin/minitwit", "healthcheck", "--live"]);
  });

  test("stops only after its drain and its in-flight requests: stop_grace_period exceeds both", () => {
    const app = service("minitwit");
    const [, m = "0", s = "0"] = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(app.stop_grace_period) ?? [];
    const graceMs = (Number(m) * 60 + Number(s)) * 1000;
    const drainMs = Number(app.environment.DRAIN_DELAY_MS);
    expect(drainMs).toBeGreaterThanOrEqual(2_000);
    expect(graceMs).toBeGreaterThan(drainMs + Number(app.environment.SHUTDOWN_TIMEOUT_MS));
  });

  test("every replica has its own address in DNS (dnsrr), which the proxy resolves", async () => {
    expect(service("minitwit").deploy.endpoint_mode).toBe("dnsrr");
    const caddyfile = await Bun.file(join(root, "ops", "swarm", "Caddyfile")).text();
    expect([...caddyfile.matchAll(/dynamic a (\S+) (\d+) \{/g)].map((m) => `${m[1]}:${m[2]}`)).toEqual([
      "minitwit:5000",
      "minitwit:5001",
    ]);
    const proxyNetworks = Object.keys(service("proxy").networks);
    expect(Object.keys(service("minitwit").networks).filter((n) => proxyNetworks.includes(n))).toEqual(["frontend"]);
  });

  test("trusts forwarded headers only from the proxy's subnet", () => {
    const subnet = stack.networks.frontend.ipam.config[0].subnet;
    expect(service("minitwit").environment.TRUSTED_PROXIES).toBe(subnet);
    expect(service("proxy").networks).toHaveProperty("frontend");
  });
});

test("the backup service runs the daily schedule with 14 days kept and metrics on 9100", () => {
  const backup = service("backup");
  expect(backup.image).toBe("ghcr.io/example/minitwit:1.4.0");
  expect(backup.command).toEqual(["backup", "--schedule", "0 3 * * *", "--keep-days", "14", "--metrics-port", "9100"]);
  expect(backup.healthcheck.test).toContain("http://127.0.0.1:9100/metrics");
  expect(backup.deploy.update_config.order).toBe("stop-first");
});

test("PostgreSQL keeps its data in a named volume and is tuned", () => {
  const pg = service("postgres");
  expect(pg.volumes).toContainEqual(expect.objectContaining({ type: "volume", source: "postgres-data" }));
  expect(stack.volumes).toHaveProperty("postgres-data");
  const settings = pg.command.filter((_: string, i: number) => pg.command[i - 1] === "-c");
  expect(settings).toEqual(expect.arrayContaining([expect.stringMatching(/^shared_buffers=/), "max_connections=100"]));
  expect(pg.environment.POSTGRES_PASSWORD_FILE).toBe("/run/secrets/db_password");
});

test("only the proxy publishes ports, and only 80 and 443", () => {
  for (const [name, svc] of services) {
    const published = (svc.ports ?? []).map((p: Yaml) => Number(p.published));
    if (name === "proxy") expect([...new Set(published)].sort()).toEqual([443, 80]);
    else expect({ name, published }).toEqual({ name, published: [] });
  }
});

test("every secret is an external Swarm secret, read through a *_FILE variable", () => {
  const declared = Object.entries(stack.secrets as Record<string, Yaml>);
  expect(declared.length).toBeGreaterThanOrEqual(8);
  for (const [name, secret] of declared) expect({ name, external: secret.external }).toEqual({ name, external: true });

  for (const [name, svc] of services) {
    const mounted = new Set<string>(
      (svc.secrets ?? []).map((s: Yaml) => {
        expect(Object.keys(stack.secrets)).toContain(s.source);
        return s.target ?? s.source;
      }),
    );
    for (const [key, value] of Object.entries((svc.environment ?? {}) as Record<string, string>)) {
      // A secret-looking variable must point at a file, and that file must be a mounted secret.
      if (/PASSWORD|SECRET|TOKEN|_KEY/.test(key)) {
        expect({ service: name, key, isFile: /_FILE$/.test(key) }).toEqual({ service: name, key, isFile: true });
      }
      const file = /^\/run\/secrets\/(.+)$/.exec(value)?.[1];
      if (file !== undefined)
        expect({ service: name, key, mounted: mounted.has(file) }).toMatchObject({ mounted: true });
      expect({ service: name, key, value }).not.toMatchObject({ value: expect.stringMatching(/:\/\/[^/@:]+:[^@]+@/) });
    }
  }
});

test("every service rotates its logs", () => {
  for (const [name, svc] of services) {
    expect({ name, logging: svc.logging }).toEqual({
      name,
      logging: { driver: "json-file", options: { "max-size": expect.any(String), "max-file": expect.any(String) } },
    });
  }
});

test("every service has resource limits and a pinned image tag, never latest", () => {
  for (const [name, svc] of services) {
    expect({ name, memory: svc.deploy?.resources?.limits?.memory }).toEqual({ name, memory: expect.any(String) });
    const tag = /:([^/:]+)$/.exec(svc.image)?.[1];
    expect({ name, tag }).toEqual({ name, tag: expect.stringMatching(/^(?!latest$).+/) });
  }
});

test("without MINITWIT_VERSION the stack does not render", () => {
  const { MINITWIT_VERSION: _, ...rest } = ENV;
  const result = render(rest);
  expect(result.code).not.toBe(0);
  expect(result.stderr).toContain("MINITWIT_VERSION");
});

test("the collector and node-exporter run on every node", () => {
  expect(service("alloy").deploy.mode).toBe("global");
  expect(service("node-exporter").deploy.mode).toBe("global");
  expect(service("loki")).toBeDefined();
});

describe("the monitoring configuration fits the stack", () => {
  test("each config file exists and is mounted by some service", () => {
    const used = new Set(services.flatMap(([, svc]) => (svc.configs ?? []).map((c: Yaml) => c.source)));
    for (const [name, config] of Object.entries(stack.configs as Record<string, Yaml>)) {
      expect({ name, exists: existsSync(config.file) }).toEqual({ name, exists: true });
      expect({ name, used: used.has(name) }).toEqual({ name, used: true });
      expect(config.name).toContain(name);
    }
  });

  test("every tasks.<service> Prometheus scrapes is a service on Prometheus's network", async () => {
    const prometheus = Bun.YAML.parse(await Bun.file(join(root, "ops", "monitoring", "prometheus.yml")).text()) as Yaml;
    const names: string[] =
      JSON.stringify(prometheus)
        .match(/tasks\.[a-z0-9-]+/g)
        ?.map((n: string) => n.slice("tasks.".length)) ?? [];
    expect(names).toContain("minitwit");
    const promNetworks = Object.keys(service("prometheus").networks);
    for (const name of new Set(names)) {
      const target = service(name);
      expect({ name, defined: target !== undefined }).toEqual({ name, defined: true });
      const shared = Object.keys(target.networks).filter((n) => promNetworks.includes(n));
      expect({ name, shared: shared.length > 0 }).toEqual({ name, shared: true });
    }
  });

  test("Grafana's data sources name services of the stack", async () => {
    const text = await Bun.file(
      join(root, "ops", "monitoring", "grafana", "provisioning", "datasources", "datasources.yml"),
    ).text();
    const hosts = [...text.matchAll(/url:\s*https?:\/\/([a-z0-9-]+):/g)].map((m) => m[1] as string);
    expect(hosts.length).toBeGreaterThan(0);
    for (const host of hosts) expect(Object.keys(stack.services)).toContain(host);
  });
});

test("the proxy's Caddyfile is valid", () => {
  const caddy = Bun.which("caddy");
  if (caddy === null) throw new Error("caddy is not installed (apt-get install caddy; .ci/run does)");
  const result = Bun.spawnSync(
    [caddy, "adapt", "--validate", "--adapter", "caddyfile", "--config", join(root, "ops", "swarm", "Caddyfile")],
    { env: { ...process.env, DOMAIN: ENV.DOMAIN, ACME_EMAIL: ENV.ACME_EMAIL }, stdout: "pipe", stderr: "pipe" },
  );
  expect(result.stderr.toString()).not.toContain("Error");
  expect(result.exitCode).toBe(0);
  // Every site answers /metrics and the probes, by prefix, with a 404 before proxying.
  const config = JSON.parse(result.stdout.toString());
  const sites = config.apps.http.servers.srv0.routes as { handle: { routes: unknown[] }[] }[];
  expect(sites.length).toBe(3);
  for (const site of sites) {
    const routes = JSON.stringify(site.handle[0]?.routes);
    expect(routes).toContain(
      '{"handle":[{"handler":"static_response","status_code":404}],"match":[{"path":["/metrics*","/healthz*","/readyz*"]}]}',
    );
    expect(routes.indexOf('"status_code":404')).toBeLessThan(routes.indexOf('"reverse_proxy"'));
  }
});

describe("PostgreSQL archives its WAL with pgBackRest (ops/postgres)", () => {
  const settings = (): string[] => {
    const pg = service("postgres");
    return pg.command.filter((_: string, i: number) => pg.command[i - 1] === "-c");
  };
  const pgbackrestConf = () => readFileSync(join(root, "ops", "postgres", "pgbackrest.conf"), "utf8");

  test("the server pushes every segment through pgBackRest, at least every 60 s", () => {
    expect(settings()).toEqual(
      expect.arrayContaining([
        "archive_mode=on",
        "archive_command=pgbackrest --stanza=minitwit archive-push %p",
        "archive_timeout=60",
      ]),
    );
    // The stanza the server archives to is the one the configuration defines.
    expect(pgbackrestConf()).toContain("\n[minitwit]\n");
    expect(pgbackrestConf()).toMatch(/^archive-async=y$/m);
    expect(pgbackrestConf()).toMatch(/^repo1-cipher-type=aes-256-cbc$/m);
  });

  test("one image, built from ops/postgres, serves the database and its backups, with its own version", () => {
    expect(service("postgres").image).toBe("ghcr.io/example/minitwit-postgres:17.6-pgbackrest-1");
    expect(service("pgbackrest").image).toBe(service("postgres").image);
    expect(existsSync(join(root, "ops", "postgres", "Dockerfile"))).toBe(true);
  });

  // pgBackRest's async archive-push leaves background processes that PID 1
  // inherits; a postmaster as PID 1 took their failures for crashed
  // backends and restarted the server (rehearsal scenario archiving).
  test("PostgreSQL runs under an init, not as PID 1", () => {
    expect(service("postgres").init).toBe(true);
    expect(service("postgres").command[0]).toBe("postgres");
  });

  test("the scheduled backups run on the database's node, with its data and socket volumes", () => {
    const [pg, backrest] = [service("postgres"), service("pgbackrest")];
    expect(backrest.command).toEqual(["pgbackrest-schedule"]);
    expect(backrest.deploy.placement.constraints).toEqual(pg.deploy.placement.constraints);
    const mounts = (svc: Yaml) => svc.volumes.map((v: Yaml) => `${v.source}:${v.target}`);
    for (const mount of ["postgres-data:/var/lib/postgresql/data", "postgres-socket:/var/run/postgresql"]) {
      expect(mounts(pg)).toContain(mount);
      expect(mounts(backrest)).toContain(mount);
    }
  });

  test("node-exporter reads the backup metrics the pgbackrest service writes", () => {
    const dir = service("pgbackrest").environment.METRICS_DIR;
    const exporter = service("node-exporter");
    expect(exporter.command).toContain(`--collector.textfile.directory=${dir}`);
    const source = (svc: Yaml) => svc.volumes.find((v: Yaml) => v.target === dir)?.source;
    expect(source(exporter)).toBe(source(service("pgbackrest")));
    expect(source(exporter)).toBeDefined();
  });

  test("postgres_exporter reaches PostgreSQL on the backend and Prometheus on the monitoring network", () => {
    const exporter = service("postgres-exporter");
    expect(Object.keys(exporter.networks).sort()).toEqual(["backend", "monitoring"]);
    expect(exporter.environment.DATA_SOURCE_PASS_FILE).toBe("/run/secrets/db_password");
  });
});
