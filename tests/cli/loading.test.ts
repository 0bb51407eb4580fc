// `minitwit` loads only the command it runs. Every command is imported by
// src/main.ts for its name, options and help; what it runs is imported inside
// its run(). So `minitwit healthcheck`, which the Swarm runs every 5 s next to
// each replica, and `minitwit version` load neither the web server nor a
// database driver. This walks the static imports from src/main.ts (type-only
// imports are erased, dynamic ones are not followed) and lists every package
// they reach.
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const MAIN = join(import.meta.dir, "..", "..", "src", "main.ts");
const transpilers = { ts: new Bun.Transpiler({ loader: "ts" }), tsx: new Bun.Transpiler({ loader: "tsx" }) };

/** A relative import's file: as written (`../package.json`), or a TypeScript module without its extension. */
function resolveRelative(from: string, spec: string): string {
  const base = resolve(dirname(from), spec);
  const candidates = [`${base}.ts`, `${base}.tsx`, join(base, "index.ts")];
  return candidates.find((candidate) => existsSync(candidate)) ?? base;
}

/** The packages (and node:/bun: modules) that importing `entry` loads, through static imports only. */
async function staticPackages(entry: string): Promise<Set<string>> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const queue = [entry];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (seen.has(file) || !/\.(ts|tsx)$/.test(file)) continue;
    seen.add(file);
    // The scanner takes no #! line; main.ts has one.
    const source = (await Bun.file(file).text()).replace(/^#!.*/, "");
    for (const { path, kind } of transpilers[file.endsWith(".tsx") ? "tsx" : "ts"].scanImports(source)) {
      if (kind !== "import-statement") continue;
      if (path.startsWith(".")) queue.push(resolveRelative(file, path));
      else packages.add(path.startsWith("@") ? path.split("/").slice(0, 2).join("/") : (path.split("/")[0] as string));
    }
  }
  return packages;
}

test("src/main.ts imports no command's dependencies until that command runs", async () => {
  const packages = await staticPackages(MAIN);
  // The walk sees through the command modules to the small ones they share.
  expect(packages).toContain("node:util");
  const heavy = [
    "elysia",
    "@elysiajs/html",
    "@kitajs/html",
    "postgres",
    "drizzle-orm",
    "@electric-sql/pglite",
    "pino",
    "prom-client",
    "@node-rs/argon2",
    "age-encryption",
    "croner",
  ];
  expect(heavy.filter((name) => packages.has(name))).toEqual([]);
});
