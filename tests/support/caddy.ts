// A real Caddy in front of test replicas, configured from the shipped
// ops/swarm/Caddyfile: its snippets and the two MiniTwit sites are kept
// line for line; only the site addresses (plain HTTP on local ports) and the
// upstream's port change, and the DNS server to ask is added. So a change to
// the shipped proxy settings (retries, DNS refresh, timeouts) is what the
// test runs.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const SHIPPED_CADDYFILE = join(import.meta.dir, "..", "..", "ops", "swarm", "Caddyfile");

export interface CaddyPorts {
  /** Where Caddy serves the `{$DOMAIN}` site and the `api.{$DOMAIN}` one. */
  readonly web: number;
  readonly api: number;
  /** The replicas' web and API ports, in place of 5000 and 5001. */
  readonly replicaWeb: number;
  readonly replicaApi: number;
  /** network/host:port of the DNS server standing in for Swarm's. */
  readonly resolver: string;
}

/** The shipped Caddyfile's top-level blocks, each with its first line. */
function topLevelBlocks(text: string): { head: string; body: string }[] {
  const blocks: { head: string; body: string }[] = [];
  let depth = 0;
  let current: string[] = [];
  for (const line of text.split("\n")) {
    const code = line.replace(/#.*$/, "");
    if (depth === 0 && code.trim() === "") continue;
    current.push(line);
    depth += (code.match(/\{(?!\$)/g) ?? []).length - (code.match(/(?<!\{\$[A-Z_]*)\}/g) ?? []).length;
    if (depth === 0) {
      blocks.push({ head: current[0]?.trim() ?? "", body: current.join("\n") });
      current = [];
    }
  }
  return blocks;
}

export function testCaddyfile(shipped: string, ports: CaddyPorts): string {
  const sites: Record<string, [number, number, number]> = {
    "{$DOMAIN} {": [ports.web, 5000, ports.replicaWeb],
    "api.{$DOMAIN} {": [ports.api, 5001, ports.replicaApi],
  };
  const kept = topLevelBlocks(shipped).flatMap(({ head, body }) => {
    if (head.startsWith("(")) return [body];
    const site = sites[head];
    if (site === undefined) return [];
    const [listen, shippedPort, replicaPort] = site;
    const upstream = new RegExp(`^(\\s*)dynamic a (\\S+) ${shippedPort} \\{$`, "m");
    if (!upstream.test(body))
      throw new Error(`the shipped ${head} site has no "dynamic a NAME ${shippedPort} {" upstream`);
    return [
      body
        .replace(head, `http://127.0.0.1:${listen} {`)
        .replace(upstream, `$1dynamic a $2 ${replicaPort} {\n$1\tresolvers ${ports.resolver}`),
    ];
  });
  if (kept.length < 3) throw new Error("the shipped Caddyfile lacks a snippet or one of the two MiniTwit sites");
  return ["{\n\tadmin off\n\tauto_https off\n}", ...kept].join("\n\n");
}

export interface RunningCaddy {
  readonly config: string;
  /** Caddy's log lines so far (JSON; errors name the failed round trip). */
  readonly log: string[];
  stop(): Promise<void>;
}

export async function startCaddy(ports: CaddyPorts): Promise<RunningCaddy> {
  const caddy = Bun.which("caddy");
  if (caddy === null) throw new Error("caddy is not installed (apt-get install caddy; .ci/run does)");
  const dir = mkdtempSync(join(tmpdir(), "minitwit-caddy-"));
  const config = testCaddyfile(readFileSync(SHIPPED_CADDYFILE, "utf8"), ports);
  writeFileSync(join(dir, "Caddyfile"), config);
  const proc = Bun.spawn([caddy, "run", "--adapter", "caddyfile", "--config", join(dir, "Caddyfile")], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
    stdout: "ignore",
    stderr: "pipe",
  });
  const log: string[] = [];
  const reading = (async () => {
    for await (const chunk of proc.stderr.pipeThrough(new TextDecoderStream())) log.push(...chunk.split("\n"));
  })();
  const until = Date.now() + 15_000;
  for (;;) {
    const up = await fetch(`http://127.0.0.1:${ports.web}/healthz`).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (proc.exitCode !== null || Date.now() > until) {
      proc.kill("SIGKILL");
      await reading;
      throw new Error(`caddy did not start:\n${log.join("\n")}`);
    }
    await Bun.sleep(50);
  }
  return {
    config,
    log,
    stop: async () => {
      proc.kill("SIGTERM");
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
