// The GitHub Actions workflows: valid for GitHub (action-validator's schema
// checks), wired as documented (CI gates the release; staging before
// production; rollback by hand with a version), secrets only from GitHub's
// secrets and never pasted into scripts, the release's version bump run for
// real against a scratch git repository, and every action pinned to the
// commit of a release (a moved or hijacked tag changes nothing here), kept
// current by Dependabot; CI lints the Dockerfile and the release scans the
// image before pushing it.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateWorkflow } from "@action-validator/core";

const root = join(import.meta.dir, "..", "..");
const dir = join(root, ".github", "workflows");
const scratch = mkdtempSync(join(tmpdir(), "minitwit-workflows-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// biome-ignore lint/suspicious/noExplicitAny: parsed workflow YAML is walked freely and checked by the assertions.
type Yaml = any;

const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
const text = (name: string) => readFileSync(join(dir, name), "utf8");
const workflow = (name: string): Yaml => Bun.YAML.parse(text(name));
/** The directories holding a Dockerfile, as dependabot.yml lists them. */
const DOCKERFILE_DIRECTORIES = ["/", "/ops/postgres"];
/** The images a Dockerfile's stages start FROM (not its own earlier stages). */
function fromImages(path: string): string[] {
  const lines = readFileSync(path, "utf8").split("\n");
  const stages = new Set(lines.map((l) => l.match(/^FROM\s+\S+\s+AS\s+(\S+)/i)?.[1]).filter(Boolean));
  const bases = lines.map((l) => l.match(/^FROM\s+(?:--platform=\S+\s+)?(\S+)/i)?.[1]);
  return bases.filter((base): base is string => base !== undefined && !stages.has(base));
}
/** A GitHub Actions expression, as written in a workflow file. */
const gh = (expression: string) => ["$", "{{ ", expression, " }}"].join("");

test("the four workflows are there", () => {
  expect(files.sort()).toEqual(["ci.yml", "deploy.yml", "release.yml", "rollback.yml"]);
});

describe("action-validator", () => {
  test.each(files)("%s is a valid workflow", (name) => {
    expect(validateWorkflow(text(name)).errors).toEqual([]);
  });

  test("rejects a broken workflow (the check is live)", () => {
    const broken = "on: push\njobs:\n  x:\n    runs_on: ubuntu-24.04\n    steps: 3\n";
    expect(validateWorkflow(broken).errors.length).toBeGreaterThan(0);
  });
});

/** Every (key, value) pair anywhere in a parsed document. */
function* entries(node: Yaml, key = ""): Generator<[string, Yaml]> {
  yield [key, node];
  if (node !== null && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) yield* entries(v, Array.isArray(node) ? key : k);
  }
}

describe("secrets", () => {
  test.each(files)("%s takes every credential from GitHub secrets", (name) => {
    for (const [key, value] of entries(workflow(name))) {
      if (typeof value !== "string" || !/password|token|secret|ssh_key|private_key/i.test(key)) continue;
      if (key === "secrets" && value === "inherit") continue; // a called workflow gets the caller's secrets
      expect({ key, value }).toEqual({ key, value: expect.stringMatching(/^\$\{\{ secrets\.[A-Z_]+ \}\}$/) });
    }
  });

  test.each(files)("%s never writes a secret into a script (only through env)", (name) => {
    for (const [key, value] of entries(workflow(name))) {
      if (key === "run") expect(value).not.toContain("secrets.");
    }
  });

  test.each(files)("%s never uses a latest tag", (name) => {
    expect(text(name)).not.toMatch(/:latest\b/);
  });
});

describe("ci.yml", () => {
  const ci = workflow("ci.yml");
  const runs = (job: string) => ci.jobs[job].steps.map((s: Yaml) => s.run ?? s.uses ?? "").join("\n");

  test("runs on pull requests and pushes, and can be called by the release", () => {
    expect(Object.keys(ci.on).sort()).toEqual(["pull_request", "push", "workflow_call"]);
  });

  test("runs the four quality gates and the Terraform format check", () => {
    for (const gate of ["lint", "typecheck", "dupes", "knip"]) expect(runs("quality")).toContain(`bun run ${gate}`);
    expect(runs("quality")).toContain("terraform fmt -check");
  });

  test("runs the test suite and the browser tests with the runner's Chrome", () => {
    expect(runs("test")).toContain("bun test");
    expect(runs("test")).toContain("playwright test");
    const playwright = ci.jobs.test.steps.find((s: Yaml) => /playwright/.test(s.run ?? ""));
    expect(playwright.env.CHROMIUM_PATH).toBeTruthy();
  });

  test("compiles the binary, builds the image and replays the simulator against it", () => {
    expect(runs("build")).toContain("bun run build");
    expect(runs("image")).toContain("docker/build-push-action");
    expect(runs("image")).toMatch(/docker run .*minitwit:ci serve/);
    expect(runs("image")).toContain("bun bench/replay.ts --url http://127.0.0.1:5001");
  });

  test("builds the database image (ops/postgres) and runs pgBackRest inside it", () => {
    expect(runs("database-image")).toContain("docker build -t minitwit-postgres:ci ops/postgres");
    expect(runs("database-image")).toMatch(/docker run .*--entrypoint pgbackrest minitwit-postgres:ci version/);
  });
});

describe("release.yml", () => {
  const release = workflow("release.yml");

  test("runs on pushes to main only, after CI", () => {
    expect(release.on).toEqual({ push: { branches: ["main"] } });
    expect(release.jobs.ci.uses).toBe("./.github/workflows/ci.yml");
    expect(release.jobs.publish.needs).toContain("ci");
  });

  test("pushes the image tagged with the version and the commit, and releases the binary", () => {
    const steps: Yaml[] = release.jobs.publish.steps;
    const push = steps.find((s) => s.uses?.startsWith("docker/build-push-action") && s.with.push);
    expect(push.with.push).toBe(true);
    expect(push.with.tags).toContain(`:${gh("env.VERSION")}`);
    expect(push.with.tags).toContain(`:${gh("steps.names.outputs.short")}`);
    expect(steps.map((s) => s.run ?? "").join("\n")).toMatch(/gh release create "v\$VERSION" minitwit-linux-x64/);
  });

  test("deploys to staging, then to production through its environment", () => {
    expect(release.jobs.staging).toMatchObject({
      uses: "./.github/workflows/deploy.yml",
      with: { environment: "staging", command: "deploy" },
    });
    expect(release.jobs.production).toMatchObject({
      uses: "./.github/workflows/deploy.yml",
      with: { environment: "production", command: "deploy" },
    });
    expect(release.jobs.production.needs).toContain("staging");
    expect(release.jobs.staging.needs).toContain("publish");
  });

  // The bump step's own script, run in a scratch repository.
  const bump = release.jobs.version.steps.find((s: Yaml) => s.id === "next").run as string;
  let repo = 0;
  function nextVersion(tags: string[], message: string): string {
    const cwd = join(scratch, `repo-${repo++}`);
    const git = (...args: string[]) => {
      const r = Bun.spawnSync(["git", ...args], {
        cwd,
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: "ci",
          GIT_AUTHOR_EMAIL: "ci@example.org",
          GIT_COMMITTER_NAME: "ci",
          GIT_COMMITTER_EMAIL: "ci@example.org",
        },
        stderr: "pipe",
      });
      if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
    };
    Bun.spawnSync(["mkdir", "-p", cwd]);
    git("init", "-q");
    for (const tag of [...tags, "head"]) {
      git("commit", "-q", "--allow-empty", "-m", tag === "head" ? message : `release ${tag}`);
      if (tag !== "head") git("tag", tag);
    }
    const output = join(cwd, "github-output");
    const summary = join(cwd, "github-summary");
    const r = Bun.spawnSync(["bash", "-euo", "pipefail", "-c", bump], {
      cwd,
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        MESSAGE: message,
        GITHUB_OUTPUT: output,
        GITHUB_STEP_SUMMARY: summary,
      },
      stderr: "pipe",
    });
    if (r.exitCode !== 0) throw new Error(`the bump failed: ${r.stderr}`);
    return readFileSync(output, "utf8").trim();
  }

  test.each([
    [[], "First release", "version=0.1.0"],
    [["v1.4.2"], "Add the search page", "version=1.5.0"],
    [["v1.4.2"], "Fix the timeline's paging #patch", "version=1.4.3"],
    [["v1.4.2"], "Drop the old API #major", "version=2.0.0"],
    [["v0.9.0", "v1.4.2", "not-a-version"], "More", "version=1.5.0"],
  ])("after tags %j, a commit %j gives %s", (tags, message, expected) => {
    expect(nextVersion(tags, message)).toBe(expected);
  });
});

describe("deploy.yml and rollback.yml", () => {
  const deploy = workflow("deploy.yml");
  const rollback = workflow("rollback.yml");
  const script = deploy.jobs.swarm.steps.map((s: Yaml) => s.run ?? "").join("\n");

  test("a deploy runs ops/deploy.sh, a rollback ops/rollback.sh, over SSH to the environment's manager", () => {
    expect(script).toContain('ops/deploy.sh "$VERSION"');
    expect(script).toContain('ops/rollback.sh "$VERSION"');
    expect(deploy.jobs.swarm.env.DOCKER_HOST).toMatch(/^ssh:\/\//);
    expect(deploy.jobs.swarm.environment.name).toBe(gh("inputs.environment"));
    expect(deploy.jobs.swarm.concurrency.group).toBe(`deploy-${gh("inputs.environment")}`);
  });

  test("rollback is started by hand, with an environment and an optional version", () => {
    expect(Object.keys(rollback.on)).toEqual(["workflow_dispatch"]);
    expect(rollback.on.workflow_dispatch.inputs.version.required).toBe(false);
    expect(rollback.on.workflow_dispatch.inputs.environment.options).toEqual(["production", "staging"]);
    expect(rollback.jobs.rollback.with.command).toBe("rollback");
  });
});

describe("supply chain", () => {
  /** A `uses:` line pinned as Dependabot keeps it: owner/repo[/path]@<40-hex commit> # v<version>. */
  const pinned = /^(- )?uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+){0,2}$/;
  // The comment is read from the text: the parsed YAML has no comments.
  const usesLines = files.flatMap((name) =>
    text(name)
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => /^(- )?uses: /.test(line) && !line.includes(" ./.github/"))
      .map((line) => ({ name, line })),
  );

  test.each([
    ["uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1", true],
    ["- uses: docker/build-push-action@53b7df96c91f9c12dcc8a07bcb9ccacbed38856a # v7.3.0", true],
    ["uses: actions/checkout@v4", false],
    ["uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1", false],
    ["uses: actions/checkout@3d3c42e # v7.0.1", false],
    ["uses: actions/checkout@main # v7.0.1", false],
  ])("the pin check judges %s: %p", (line, ok) => {
    expect(pinned.test(line)).toBe(ok);
  });

  test("every action in every workflow is pinned to a commit, with its version in a comment", () => {
    const remote = files.flatMap((name) =>
      [...entries(workflow(name))].filter(([k, v]) => k === "uses" && !String(v).startsWith("./")),
    );
    expect(usesLines.length).toBe(remote.length); // no `uses:` the line scan missed
    expect(usesLines.length).toBeGreaterThan(10);
    for (const use of usesLines) expect(use).toEqual({ ...use, line: expect.stringMatching(pinned) });
  });

  test("each action has one pin across the workflows", () => {
    const pins = new Map<string, Set<string>>();
    for (const { line } of usesLines) {
      const [, action, ref] = line.match(/uses: ([^@]+)@(\S+ # \S+)/) ?? [];
      if (action && ref) pins.set(action, (pins.get(action) ?? new Set()).add(ref));
    }
    for (const [action, refs] of pins)
      expect({ action, refs: [...refs] }).toEqual({ action, refs: [...refs].slice(0, 1) });
  });

  test.each(files)("%s installs npm packages only as bun.lock pins them", (name) => {
    const installs = text(name).match(/bun (install|i|add)\b[^\n]*/g) ?? [];
    for (const install of installs) expect(install).toMatch(/^bun install --frozen-lockfile\b/);
  });

  test("dependabot.yml updates npm packages (bun.lock), both Dockerfiles' base images and the actions", () => {
    const config: Yaml = Bun.YAML.parse(readFileSync(join(root, ".github", "dependabot.yml"), "utf8"));
    expect(config.version).toBe(2);
    const updates: Yaml[] = config.updates;
    expect(updates.map((u) => u["package-ecosystem"]).sort()).toEqual(["bun", "docker", "github-actions"]);
    for (const update of updates) {
      expect(update.directories ?? [update.directory]).toEqual(
        update["package-ecosystem"] === "docker" ? DOCKERFILE_DIRECTORIES : ["/"],
      );
      expect(["daily", "weekly"]).toContain(update.schedule.interval);
    }
  });

  // Dependabot reads only literal `FROM image:tag` lines; an ARG in FROM
  // hides the base from it, and no update would ever be proposed.
  test.each(DOCKERFILE_DIRECTORIES)("every base image in %s is one Dependabot can read", (directory) => {
    const bases = fromImages(join(root, directory, "Dockerfile"));
    expect(bases.length).toBeGreaterThan(0);
    for (const base of bases) expect(base).toMatch(/^[a-z0-9][a-z0-9./-]*:[A-Za-z0-9._-]+(@sha256:[0-9a-f]{64})?$/);
  });

  // Dependabot moves the Dockerfile's Bun alone: CI and the release must follow it.
  test("the image, CI and the release build with one Bun version", () => {
    const image = fromImages(join(root, "Dockerfile")).find((base) => base.startsWith("oven/bun:"));
    const versions = {
      image: image?.slice("oven/bun:".length),
      ci: String(workflow("ci.yml").env.BUN_VERSION),
      release: text("release.yml").match(/bun-version: (\S+)/)?.[1],
      ciScript: readFileSync(join(root, ".ci", "run"), "utf8").match(/^BUN_VERSION=(\S+)$/m)?.[1],
    };
    expect(versions).toEqual({ image: versions.ci, ci: versions.ci, release: versions.ci, ciScript: versions.ci });
  });

  test("CI lints the Dockerfile with hadolint, failing on its findings", () => {
    const steps: Yaml[] = workflow("ci.yml").jobs.quality.steps;
    const hadolint = steps.find((s) => s.uses?.startsWith("hadolint/hadolint-action@"));
    expect(hadolint.with.dockerfile).toBe("Dockerfile");
    expect(hadolint.with["no-fail"]).toBeUndefined();
    expect(hadolint.with["failure-threshold"]).toBeUndefined(); // the default (info) fails on errors, warnings and infos
  });

  test("the release scans the image with Trivy, failing on critical findings, before it pushes or releases", () => {
    const steps: Yaml[] = workflow("release.yml").jobs.publish.steps;
    const at = (find: (s: Yaml) => boolean) => steps.findIndex(find);
    const scan = at((s) => s.uses?.startsWith("aquasecurity/trivy-action@"));
    const load = at((s) => s.uses?.startsWith("docker/build-push-action@") && s.with.load === true);
    const push = at((s) => s.uses?.startsWith("docker/build-push-action@") && s.with.push === true);
    const release = at((s) => /gh release create/.test(s.run ?? ""));
    expect(steps[scan].with.severity.split(",")).toContain("CRITICAL");
    expect(String(steps[scan].with["exit-code"])).toBe("1");
    expect(steps[scan].with["image-ref"]).toBe(steps[load].with.tags);
    expect(load).toBeLessThan(scan);
    expect(scan).toBeLessThan(push);
    expect(scan).toBeLessThan(release);
  });
});
