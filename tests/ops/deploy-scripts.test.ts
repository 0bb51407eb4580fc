// ops/deploy.sh and ops/rollback.sh against a fake `docker` on PATH
// (tests/fixtures/fake-docker) that records every call: the right commands in
// the right order, the wait for healthy replicas, and refusal of bad input
// before anything changes. Also: every shell script in ops/ is shellcheck
// clean, and the Terraform files are formatted.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dir, "..", "..");
const work = mkdtempSync(join(tmpdir(), "minitwit-deploy-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const IMAGE = "ghcr.io/example/minitwit";
const KNOWN = ["1.3.0", "1.4.0", "1.5.0"].map((v) => `${IMAGE}:${v}`).join(" ");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** One entry per docker call: its arguments. */
  calls: string[];
  /** The variables `docker stack deploy` was given, when it was called. */
  deployedWith: Record<string, string> | null;
}

function run(script: "deploy.sh" | "rollback.sh", args: string[], env: Record<string, string> = {}): Run {
  const dir = mkdtempSync(join(work, "run-"));
  const bin = join(dir, "bin");
  mkdirSync(bin);
  mkdirSync(join(dir, "state"));
  copyFileSync(join(root, "tests", "fixtures", "fake-docker"), join(bin, "docker"));
  chmodSync(join(bin, "docker"), 0o755);
  const log = join(dir, "docker.log");
  const result = Bun.spawnSync(["bash", join(root, "ops", script), ...args], {
    env: {
      PATH: `${bin}:/usr/bin:/bin`,
      HOME: dir,
      MINITWIT_IMAGE: IMAGE,
      DEPLOY_POLL_INTERVAL: "0",
      DEPLOY_TIMEOUT: "20",
      FAKE_DOCKER_LOG: log,
      FAKE_DOCKER_STATE: join(dir, "state"),
      FAKE_DOCKER_IMAGES: KNOWN,
      FAKE_DOCKER_CURRENT: "1.4.0",
      FAKE_DOCKER_PREVIOUS: "1.3.0",
      ...env,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const lines = (() => {
    try {
      return readFileSync(log, "utf8").split("\n").filter(Boolean);
    } catch {
      return [];
    }
  })();
  const vars = lines.find((l) => l.startsWith("  MINITWIT_VERSION="));
  return {
    code: result.exitCode,
    stdout: result.stdout.toString(),
    stderr: result.stderr.toString(),
    calls: lines.filter((l) => !l.startsWith("  ")),
    deployedWith:
      vars === undefined
        ? null
        : Object.fromEntries(
            vars
              .trim()
              .split(" ")
              .map((kv) => kv.split("=")),
          ),
  };
}

const indexOf = (calls: string[], prefix: string) => calls.findIndex((c) => c.startsWith(prefix));
/** The calls that start with each prefix, found in this order (each after the one before); null if one is missing. */
function inOrder(calls: string[], prefixes: string[]): string[] | null {
  const found: string[] = [];
  let from = 0;
  for (const prefix of prefixes) {
    const i = calls.findIndex((c, j) => j >= from && c.startsWith(prefix));
    if (i < 0) return null;
    found.push(calls[i] as string);
    from = i + 1;
  }
  return found;
}
const changes = (calls: string[]) => calls.filter((c) => /^(stack deploy|service create|service update)/.test(c));

describe("deploy.sh <version>", () => {
  test("checks the image, migrates with the new version, deploys, waits until healthy, reports", () => {
    const r = run("deploy.sh", ["1.5.0"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const calls = inOrder(r.calls, [
      `manifest inspect ${IMAGE}:1.5.0`,
      "service create",
      "service ps minitwit_migrate",
      "service rm minitwit_migrate",
      "stack deploy",
      "service ps minitwit_minitwit",
    ]);
    expect(calls).not.toBeNull();
    const [, create, , , deploy] = calls as string[];
    expect(create).toContain("--mode replicated-job");
    expect(create).toContain("--network minitwit_backend");
    expect(create).toContain("--secret source=minitwit_db_password,target=db_password");
    // The database the app uses: the one address in ops/swarm/database-url.
    const address = readFileSync(join(root, "ops", "swarm", "database-url"), "utf8").trim();
    expect(create).toContain(`--env DATABASE_URL=${address}`);
    expect(create).toEndWith(`${IMAGE}:1.5.0 migrate`);
    expect(deploy).toContain("ops/swarm/stack.yml minitwit");
    expect(r.deployedWith).toMatchObject({ MINITWIT_VERSION: "1.5.0", MINITWIT_PREVIOUS_VERSION: "1.4.0" });
    expect(r.deployedWith?.CONFIG_VERSION).toMatch(/^[0-9a-f]{12}$/);
    // It waited: the update status was read while "updating", then "completed".
    expect(r.calls.filter((c) => c.includes("UpdateStatus.State")).length).toBeGreaterThanOrEqual(3);
    expect(r.stdout).toContain("1.5.0 runs on 3/3 healthy replicas (was 1.4.0)");
  });

  test("the first deploy has no running version to migrate under: the replicas migrate at start", () => {
    const r = run("deploy.sh", ["1.4.0"], { FAKE_DOCKER_CURRENT: "" });
    expect(r.code).toBe(0);
    expect(indexOf(r.calls, "service create")).toBe(-1);
    expect(r.deployedWith).toMatchObject({ MINITWIT_VERSION: "1.4.0", MINITWIT_PREVIOUS_VERSION: "" });
  });

  test("redeploying the running version keeps the version to roll back to", () => {
    const r = run("deploy.sh", ["1.4.0"]);
    expect(r.code).toBe(0);
    expect(r.deployedWith).toMatchObject({ MINITWIT_VERSION: "1.4.0", MINITWIT_PREVIOUS_VERSION: "1.3.0" });
  });

  test("a failed migration stops before anything is deployed, and says what still runs", () => {
    const r = run("deploy.sh", ["1.5.0"], { FAKE_DOCKER_MIGRATE: "fail" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("the migrations of 1.5.0 failed");
    expect(r.stderr).toContain("1.4.0 still runs");
    expect(indexOf(r.calls, "stack deploy")).toBe(-1);
    expect(
      inOrder(r.calls, ["service create", "service logs --raw minitwit_migrate", "service rm minitwit_migrate"]),
    ).not.toBeNull();
  });

  test("when Swarm rolls the update back, the deploy fails and says so", () => {
    const r = run("deploy.sh", ["1.5.0"], { FAKE_DOCKER_UPDATES: "updating rollback_started" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("1.5.0 failed its health checks and Swarm rolled back to 1.4.0");
    expect(r.stderr).toContain("ops/rollback.sh 1.4.0 returns the other services too");
  });

  test("replicas that never become healthy fail the deploy at the timeout", () => {
    const r = run("deploy.sh", ["1.5.0"], { FAKE_DOCKER_HEALTH: "Starting", DEPLOY_TIMEOUT: "1" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("only 0 of 3 replicas run 1.5.0 healthily");
  });

  test.each([
    [[], "which version? none was given"],
    [["latest"], '"latest" is not a version'],
    [["1.4"], '"1.4" is not a release version'],
    [["1.4.0", "1.5.0"], "give exactly one version"],
    [["--force", "1.4.0"], "unknown option --force"],
  ])("refuses %j with a usage error, touching nothing", (args, message) => {
    const r = run("deploy.sh", args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain("Usage: ops/deploy.sh <version>");
    expect(r.calls).toEqual([]);
  });

  test("refuses a version the registry does not have", () => {
    const r = run("deploy.sh", ["9.9.9"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`unknown version 9.9.9: the registry has no image ${IMAGE}:9.9.9`);
    expect(changes(r.calls)).toEqual([]);
  });

  test("refuses to run without MINITWIT_IMAGE", () => {
    const r = run("deploy.sh", ["1.5.0"], { MINITWIT_IMAGE: "" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("set MINITWIT_IMAGE");
    expect(r.calls).toEqual([]);
  });
});

describe("rollback.sh [version]", () => {
  test("without a version returns to the previous one, without migrations, and waits until healthy", () => {
    const r = run("rollback.sh", [], { FAKE_DOCKER_CURRENT: "1.5.0", FAKE_DOCKER_PREVIOUS: "1.4.0" });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(indexOf(r.calls, `manifest inspect ${IMAGE}:1.4.0`)).toBeGreaterThanOrEqual(0);
    expect(indexOf(r.calls, "service create")).toBe(-1);
    expect(r.deployedWith).toMatchObject({ MINITWIT_VERSION: "1.4.0", MINITWIT_PREVIOUS_VERSION: "" });
    expect(r.stdout).toContain("rollback done: 1.4.0 runs on 3/3 healthy replicas (was 1.5.0)");
  });

  test("with a version returns to that one", () => {
    const r = run("rollback.sh", ["1.3.0"], { FAKE_DOCKER_CURRENT: "1.5.0" });
    expect(r.code).toBe(0);
    expect(r.deployedWith).toMatchObject({ MINITWIT_VERSION: "1.3.0" });
  });

  test("refuses when no previous version is recorded", () => {
    const r = run("rollback.sh", [], { FAKE_DOCKER_PREVIOUS: "" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no previous version is recorded");
    expect(changes(r.calls)).toEqual([]);
  });

  test("refuses a version the registry does not have", () => {
    const r = run("rollback.sh", ["0.0.1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("rollback: unknown version 0.0.1");
    expect(changes(r.calls)).toEqual([]);
  });

  test.each([
    [["1.3.0", "1.4.0"], "give at most one version"],
    [["--all"], "unknown option --all"],
    [["latest"], '"latest" is not a version'],
  ])("refuses %j with a usage error", (args, message) => {
    const r = run("rollback.sh", args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(changes(r.calls)).toEqual([]);
  });

  test("rolling back to the version that runs changes nothing", () => {
    const r = run("rollback.sh", ["1.4.0"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("1.4.0 already runs; nothing to do");
    expect(changes(r.calls)).toEqual([]);
  });
});

test("every shell script in ops/ (and the fake docker) is shellcheck clean", () => {
  const shellcheck = Bun.which("shellcheck");
  if (shellcheck === null) throw new Error("shellcheck is not installed (apt-get install shellcheck; .ci/run does)");
  const scripts = [...new Bun.Glob("ops/**/*.sh").scanSync({ cwd: root }), "tests/fixtures/fake-docker"];
  expect(scripts).toEqual(expect.arrayContaining(["ops/deploy.sh", "ops/rollback.sh", "ops/image/build-local.sh"]));
  const result = Bun.spawnSync([shellcheck, "--severity=style", ...scripts], { cwd: root, stdout: "pipe" });
  expect(result.stdout.toString()).toBe("");
  expect(result.exitCode).toBe(0);
});

const terraform = Bun.which("terraform");
test.skipIf(terraform === null)("the Terraform files are formatted (terraform fmt -check)", () => {
  const result = Bun.spawnSync([terraform as string, "fmt", "-check", "-diff", "-recursive", "ops/terraform"], {
    cwd: root,
    stdout: "pipe",
    stderr: "pipe",
  });
  // stdout names each file that is not formatted, with its diff.
  expect(result.stdout.toString()).toBe("");
  expect({ code: result.exitCode, stderr: result.stderr.toString() }).toMatchObject({ code: 0 });
});
