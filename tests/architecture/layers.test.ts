// The layers of src/ and the one direction imports may take between them
// (docs/architecture.md, "Layers"): a file imports only from its own layer
// or from layers below it, and the surfaces and operator commands, which sit
// side by side, never import each other. Static and dynamic imports count
// alike; type-only imports too, since a type names the layer it belongs to.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");

/** Lowest first. Each entry: the layer's name and what it holds: folders (ending in /) and files (without extension). */
const LAYERS: readonly (readonly [string, readonly string[]])[] = [
  ["leaves", ["src/errors", "src/version", "src/assets.d", "db/", "views/"]],
  ["config", ["src/config/"]],
  ["observability", ["src/observability/"]],
  ["database", ["src/database/"]],
  ["store", ["src/store/"]],
  ["accounts", ["src/accounts/"]],
  ["surfaces and operations", ["src/http/", "src/backup/", "src/replicate/", "src/legacy-import/", "src/seed/"]],
  ["commands", ["src/cli/"]],
  ["entry point", ["src/main"]],
];

/** The folders of the side-by-side layer: none imports another. */
const SIDE_BY_SIDE = LAYERS[6]?.[1] ?? [];

/** A file's layer; `path` is from the repository root, with or without its extension. */
function layerOf(file: string): number {
  const path = file.replace(/\.tsx?$/, "");
  const index = LAYERS.findIndex(([, prefixes]) => prefixes.some((p) => path === p || path.startsWith(p)));
  if (index < 0) throw new Error(`${path} belongs to no layer: add it to LAYERS and docs/architecture.md`);
  return index;
}

function folderOf(path: string): string | undefined {
  return SIDE_BY_SIDE.find((p) => path.startsWith(p));
}

/** Every relative import of a file, resolved to a path from the repository root. */
export function importsOf(file: string, text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)["'](\.{1,2}\/[^"']+)["']/g)) {
    found.push(relative(ROOT, join(ROOT, dirname(file), m[1] as string)));
  }
  return found;
}

/** The imports that break the rule, as "from -> to (why)". */
export function violations(files: ReadonlyMap<string, string>): string[] {
  const broken: string[] = [];
  for (const [file, text] of files) {
    const from = layerOf(file);
    for (const target of importsOf(file, text)) {
      if (target.startsWith("node_modules") || target === "package.json") continue;
      const to = layerOf(target);
      const [fromName] = LAYERS[from] as readonly [string, readonly string[]];
      const [toName] = LAYERS[to] as readonly [string, readonly string[]];
      if (to > from) broken.push(`${file} -> ${target} (${fromName} imports ${toName}, a layer above it)`);
      else if (to === from && folderOf(file) !== folderOf(target)) {
        broken.push(`${file} -> ${target} (${folderOf(file)} and ${folderOf(target)} sit side by side)`);
      }
    }
  }
  return broken;
}

/** Inside src/http/: the surfaces never import each other, and the middleware imports none of them. */
const SURFACES = ["src/http/web/", "src/http/api/", "src/http/monitoring/"];

export function surfaceViolations(files: ReadonlyMap<string, string>): string[] {
  const broken: string[] = [];
  for (const [file, text] of files) {
    const own = SURFACES.find((s) => file.startsWith(s));
    if (own === undefined && !file.startsWith("src/http/middleware/")) continue;
    for (const target of importsOf(file, text)) {
      const other = SURFACES.find((s) => target.startsWith(s));
      if (other !== undefined && other !== own)
        broken.push(`${file} -> ${target} (${own ?? "src/http/middleware/"} imports ${other})`);
    }
  }
  return broken;
}

function sources(): Map<string, string> {
  const files = new Map<string, string>();
  for (const dir of ["src", "db", "views"]) {
    for (const path of new Bun.Glob("**/*.{ts,tsx}").scanSync({ cwd: join(ROOT, dir) })) {
      files.set(`${dir}/${path}`, readFileSync(join(ROOT, dir, path), "utf8"));
    }
  }
  return files;
}

test("no layer of src/ imports a layer above it, and the surfaces and operations do not import each other", () => {
  expect(violations(sources())).toEqual([]);
});

test("the HTTP surfaces (web, api, monitoring) import neither each other nor are imported by the middleware", () => {
  expect(surfaceViolations(sources())).toEqual([]);
  const planted = new Map([
    ["src/http/web/auth-pages.ts", 'import { x } from "../api/routes";'],
    ["src/http/middleware/guard.ts", 'import { y } from "../web/cookies";'],
    ["src/http/api/routes.ts", 'import { z } from "../middleware/guard";'],
  ]);
  expect(surfaceViolations(planted)).toEqual([
    "src/http/web/auth-pages.ts -> src/http/api/routes (src/http/web/ imports src/http/api/)",
    "src/http/middleware/guard.ts -> src/http/web/cookies (src/http/middleware/ imports src/http/web/)",
  ]);
});

test("the check catches an upward import, a sideways one and a dynamic one", () => {
  const planted = new Map([
    ["src/store/users.ts", 'import { x } from "../http/app";'],
    ["src/backup/create.ts", 'import type { Y } from "../replicate/catalog";'],
    ["src/database/open.ts", 'const m = await import("../cli/serve");'],
    ["src/http/app.ts", 'import { z } from "../store/users";'],
  ]);
  expect(violations(planted)).toEqual([
    "src/store/users.ts -> src/http/app (store imports surfaces and operations, a layer above it)",
    "src/backup/create.ts -> src/replicate/catalog (src/backup/ and src/replicate/ sit side by side)",
    "src/database/open.ts -> src/cli/serve (database imports commands, a layer above it)",
  ]);
});
