// Several `minitwit serve` processes on one PostgreSQL database, as the
// Swarm runs its replicas: each its own process, ports and memory, sharing
// only the database and the session secret.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, freshDatabase } from "./postgres";
import { type ServeProcess, spawnServe } from "./serve-process";

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
  const children: ServeProcess[] = [];
  const web: string[] = [];
  const stop = async () => {
    await Promise.all(children.map((child) => child.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < count; i++) {
      const [port, apiPort] = [await freePort(), await freePort()];
      children.push(
        spawnServe({
          DATABASE_URL: databaseUrl,
          DATA_DIR: join(dataDir, String(i)),
          PORT: String(port),
          API_PORT: String(apiPort),
          SESSION_SECRET: SHARED_SESSION_SECRET,
          LOG_LEVEL: "error",
          ...env,
        }),
      );
      web.push(`http://127.0.0.1:${port}`);
    }
    await Promise.all(children.map((child, i) => child.ready(web[i] as string)));
  } catch (err) {
    await stop();
    throw err;
  }
  return { web, databaseUrl, stop };
}
