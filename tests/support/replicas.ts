// Replicas of `minitwit serve`, each its own process on its own loopback
// address (127.0.0.2, .3, ...) with the same ports, as Swarm's tasks each
// have their own address. The test plays Swarm: a replica enters the
// service's DNS once /readyz answers 200 and leaves it as it is stopped, or
// once it has died.
import { type ServeProcess, spawnServe } from "./serve-process";
import type { ServiceDns } from "./service-dns";

/** A replica's process, its stdout lines and its exit, as spawnServe gives them. */
export interface Replica extends Pick<ServeProcess, "proc" | "lines" | "exited"> {
  readonly ip: string;
  /** Its own web address, bypassing the proxy. */
  readonly web: string;
}

export interface ReplicaSet {
  readonly replicas: Replica[];
  /** Starts a replica in `slot` (0, 1, ...) and adds it to DNS once ready. */
  start(slot: number): Promise<Replica>;
  /** Swarm's stop: out of DNS, then SIGTERM; resolves once it has exited. Returns when it left DNS. */
  stop(slot: number): Promise<number>;
  /** A crash: SIGKILL; out of DNS once it is seen dead. Returns when it was killed. */
  kill(slot: number): Promise<number>;
  /** Each slot stopped and started again in turn, the new one once the old one has exited. */
  rollingRestart(): Promise<number[]>;
  stopAll(): Promise<void>;
}

export function replicaSet(dns: ServiceDns, env: Record<string, string>, ports: { web: number; api: number }) {
  const replicas: Replica[] = [];
  const ipOf = (slot: number) => `127.0.0.${slot + 2}`;

  const start = async (slot: number) => {
    const ip = ipOf(slot);
    const server = spawnServe({ HOST: ip, PORT: String(ports.web), API_PORT: String(ports.api), ...env });
    const web = `http://${ip}:${ports.web}`;
    const replica: Replica = { ip, web, proc: server.proc, lines: server.lines, exited: server.exited };
    replicas[slot] = replica;
    await server.ready(web);
    dns.register(ip);
    return replica;
  };

  const set: ReplicaSet = {
    replicas,
    start,
    async stop(slot) {
      const replica = replicas[slot] as Replica;
      dns.deregister(replica.ip);
      const left = Date.now();
      replica.proc.kill("SIGTERM");
      const code = await replica.exited;
      if (code !== 0) throw new Error(`replica ${replica.ip} exited with ${code} after SIGTERM`);
      return left;
    },
    async kill(slot) {
      const replica = replicas[slot] as Replica;
      const killed = Date.now();
      replica.proc.kill("SIGKILL");
      await replica.exited;
      dns.deregister(replica.ip);
      return killed;
    },
    async rollingRestart() {
      const left: number[] = [];
      for (let slot = 0; slot < replicas.length; slot++) {
        left.push(await set.stop(slot));
        await start(slot);
      }
      return left;
    },
    async stopAll() {
      for (const replica of replicas) if (replica.proc.exitCode === null) replica.proc.kill("SIGKILL");
      await Promise.all(replicas.map((r) => r.exited));
    },
  };
  return set;
}
