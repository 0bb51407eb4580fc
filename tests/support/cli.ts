// Runs the CLI as an operator would: `bun src/main.ts ARGS` in its own
// process, with a minimal environment. Spawned without blocking, so servers
// running inside the test process keep answering meanwhile.
import { join } from "node:path";

export const MAIN = join(import.meta.dir, "..", "..", "src", "main.ts");

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `minitwit ARGS` with exactly `env` plus PATH and HOME. */
export async function runMinitwit(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<CliResult> {
  const proc = Bun.spawn(["bun", MAIN, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}
