// `minitwit serve` in a process of its own, as an operator or the Swarm
// starts it: a minimal environment, stdout read line by line to its end (a
// chatty server never blocks on a full pipe), stderr kept for the failure
// message. Each test that needs a real process (signals, several replicas, a
// second process on one data directory) starts it here.
import type { Subprocess } from "bun";
import { MAIN } from "./cli";

export interface ServeProcess {
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Every stdout line so far (pino's JSON, unparsed). */
  readonly lines: string[];
  /** Resolves once the process has exited and all of its output is in `lines`: its exit code. */
  readonly exited: Promise<number>;
  /** Its stderr, complete once it has exited. */
  readonly stderr: Promise<string>;
  /** Whether it logged that it listens before it exited; throws after `timeoutMs`. */
  listening(timeoutMs?: number): Promise<boolean>;
  /** Waits until `origin`/readyz answers 200; throws if it exits first (with its stderr) or after `timeoutMs`. */
  ready(origin: string, timeoutMs?: number): Promise<void>;
  /** SIGTERM; resolves with the exit code once all output is read. */
  stop(): Promise<number>;
}

/** Starts `minitwit serve` with PATH, HOME, HOST 127.0.0.1, LOG_LEVEL info and METRICS_PORT 0, then `env`. */
export function spawnServe(env: Record<string, string>): ServeProcess {
  const proc = Bun.spawn(["bun", MAIN, "serve"], {
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/tmp",
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
      METRICS_PORT: "0",
      ...env,
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const lines: string[] = [];
  const reading = (async () => {
    let buffer = "";
    for await (const chunk of proc.stdout.pipeThrough(new TextDecoderStream())) {
      const parts = (buffer + chunk).split("\n");
      buffer = parts.pop() ?? "";
      lines.push(...parts);
    }
  })();
  const exited = reading.then(() => proc.exited);
  const stderr = new Response(proc.stderr).text();

  const until = async (done: () => boolean | Promise<boolean>, what: string, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await done())) {
      if (proc.exitCode !== null) return false;
      if (Date.now() > deadline) throw new Error(`minitwit serve: no ${what} within ${timeoutMs} ms`);
      await Bun.sleep(20);
    }
    return true;
  };
  return {
    proc,
    lines,
    exited,
    stderr,
    listening: (timeoutMs = 90_000) =>
      until(() => lines.some((l) => l.includes('"msg":"minitwit is listening"')), "listening line", timeoutMs),
    async ready(origin, timeoutMs = 30_000) {
      if (!(await until(() => isReady(`${origin}/readyz`), "200 from /readyz", timeoutMs))) {
        throw new Error(`minitwit serve at ${origin} exited before it was ready:\n${await stderr}`);
      }
    },
    stop() {
      proc.kill("SIGTERM");
      return exited;
    },
  };
}

async function isReady(url: string): Promise<boolean> {
  try {
    const res = await fetch(url);
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}
