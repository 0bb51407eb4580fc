// `bun test <file>` alone, without the script's `--timeout`, gives the file's
// tests and hooks the suite's timeout (tests/support/setup.ts), not Bun's
// default of 5 s: a newcomer who runs one file gets the same verdict as
// `bun run test`.
import { expect, test } from "bun:test";

test("a hook slower than 5 s does not time out under plain `bun test <file>`", async () => {
  const run = Bun.spawn([process.execPath, "test", "./tests/fixtures/test-runner/slow-hook.ts"], {
    cwd: `${import.meta.dir}/../..`,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, err] = await Promise.all([run.exited, new Response(run.stderr).text()]);
  expect({ code, timedOut: err.includes("timed out") }).toEqual({ code: 0, timedOut: false });
  expect(err).toContain("1 pass");
});
