// Several `minitwit serve` processes on one PostgreSQL database, as the
// Swarm runs its replicas: each its own process, ports and memory, sharing
// only the database and the session secret.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAIN } from "./cli";
import { freePort, freshDatabase } from "./postgres";

export const SHARED_SESSION_SECRET = "replica-test-session-secret-0123456789abcdef";

export interface ServersOnOneDatabase {
  /** Each replica's web origin, `http://127.0.0.1:<port>`. */
  readonly web: readonly string[];
  readonly databaseUrl: string;
  stop(): Promise<void>;
}

export async function startServersOnOneDatabase(
  count: number,
  env: Record<string, string> = {},
): Promise<ServersOnOneDatabase> {
  const databaseUrl = await freshDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), "minitwit-replicas-"));
  const children: ReturnType<typeof Bun.spawn>[] = [];
  const web: string[] = [];
  const stop = async () => {
    for (const child of children) child.kill("SIGTERM");
    await Promise.all(children.map((c) => c.exited));
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < count; i++) {
      const [port, apiPort] = [await freePort(), await freePort()];
      children.push(
        Bun.spawn(["bun", MAIN, "serve"], {
          env: {
            PATH: process.env.PATH ?? "/usr/bin:/bin",
            HOME: process.env.HOME ?? "/tmp",
            DATABASE_URL: databaseUrl,
            DATA_DIR: join(dataDir, String(i)),
            HOST: "127.0.0.1",
            PORT: String(port),
            API_PORT: String(apiPort),
            METRICS_PORT: "0",
            SESSION_SECRET: SHARED_SESSION_SECRET,
            LOG_LEVEL: "error",
            ...env,
          },
          stdout: "ignore",
          stderr: "inherit",
        }),
      );
      web.push(`http://127.0.0.1:${port}`);
    }
    await Promise.all(web.map((origin) => untilReady(origin)));
  } catch (err) {
    await stop();
    throw err;
  }
  return { web, databaseUrl, stop };
}

async function untilReady(origin: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ready = await fetch(`${origin}/readyz`).then(
      (res) => res.status === 200,
      () => false,
    );
    if (ready) return;
    await Bun.sleep(100);
  }
  throw new Error(`${origin} did not become ready within ${timeoutMs} ms`);
}
