// HTTPS in front of a local HTTP server, for clients that refuse plain HTTP
// (pgBackRest speaks S3 only over TLS). Caddy terminates TLS with its own
// internal CA on `localhost`; clients verify the certificate against caFile.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { freePort } from "./postgres";

export interface TlsProxy {
  readonly host: "localhost";
  readonly port: number;
  /** The internal CA's root certificate, which signs the proxy's certificate. */
  readonly caFile: string;
  stop(): Promise<void>;
}

export async function startTlsProxy(upstream: string): Promise<TlsProxy> {
  const caddy = Bun.which("caddy");
  if (caddy === null) throw new Error("caddy is not installed (apt-get install caddy; .ci/run does)");
  const dir = mkdtempSync(join(tmpdir(), "minitwit-tls-"));
  const port = await freePort();
  const config = join(dir, "Caddyfile");
  writeFileSync(
    config,
    `{
	admin off
	storage file_system ${join(dir, "data")}
	skip_install_trust
	auto_https disable_redirects
}
https://localhost:${port} {
	bind 127.0.0.1
	tls internal
	reverse_proxy ${new URL(upstream).host}
}
`,
  );
  const proc = Bun.spawn([caddy, "run", "--adapter", "caddyfile", "--config", config], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
    stdout: "ignore",
    stderr: "pipe",
  });
  const caFile = join(dir, "data", "pki", "authorities", "local", "root.crt");
  const stop = async () => {
    proc.kill();
    await proc.exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForTls(port, caFile, proc);
  } catch (error) {
    await stop();
    throw error;
  }
  return { host: "localhost", port, caFile, stop };
}

/** Until a TLS handshake on `port` verifies against the CA Caddy creates at start. */
async function waitForTls(port: number, caFile: string, proc: Bun.Subprocess<"ignore", "ignore", "pipe">) {
  const deadline = Date.now() + 15_000;
  let last: unknown;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) {
      throw new Error(`caddy exited with ${proc.exitCode}: ${await new Response(proc.stderr).text()}`);
    }
    try {
      const ca = await Bun.file(caFile).text();
      await new Promise<void>((resolve, reject) => {
        const socket = connect({ host: "127.0.0.1", port, servername: "localhost", ca }, () => {
          socket.end();
          resolve();
        });
        socket.on("error", reject);
      });
      return;
    } catch (error) {
      last = error;
      await Bun.sleep(100);
    }
  }
  throw new Error("caddy did not serve TLS within 15 s", { cause: last });
}
