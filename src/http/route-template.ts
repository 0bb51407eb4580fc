// Finds the route template a request path belongs to (`/msgs/:username`),
// for metric labels and log lines. Elysia only knows the matched route once
// its router ran, but requests answered earlier (the simulator API's 403 is
// decided in onRequest) or never matched (404) must be labelled too, so the
// observer matches on its own against the app's route table. The result is
// always a template from that table or UNMATCHED: a caller can never create a
// new label value by inventing paths or methods.

export const UNMATCHED = "unmatched";

/** Methods kept as labels; anything else is counted as "OTHER". */
const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

// Segment kinds, best first: a static segment beats a parameter, which beats
// a wildcard, as in Elysia's router (`/public` wins over `/:username`).
const STATIC = 3;
const PARAM = 2;
const WILDCARD = 1;

interface Compiled {
  readonly method: string;
  readonly template: string;
  readonly segments: readonly { kind: number; text: string; optional: boolean }[];
}

export interface RouteLike {
  readonly method: string;
  readonly path: string;
}

export type RouteMatcher = (method: string, path: string) => string;

export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : "OTHER";
}

export function routeMatcher(routes: readonly RouteLike[]): RouteMatcher {
  const table: Compiled[] = routes.map((r) => ({
    method: r.method.toUpperCase(),
    template: r.path,
    segments: split(r.path).map((s) => ({
      kind: s === "*" ? WILDCARD : s.startsWith(":") ? PARAM : STATIC,
      text: s,
      optional: s.startsWith(":") && s.endsWith("?"),
    })),
  }));
  return (method, path) => {
    const parts = split(path);
    // HEAD is answered by the GET route, as Elysia does.
    const methods = method === "HEAD" ? ["HEAD", "GET", "ALL"] : [method, "ALL"];
    let best: { template: string; score: number[] } | null = null;
    for (const route of table) {
      if (!methods.includes(route.method)) continue;
      const score = match(route, parts);
      if (score !== null && (best === null || better(score, best.score))) best = { template: route.template, score };
    }
    return best?.template ?? UNMATCHED;
  };
}

/** The kinds of the segments that matched, or null when the route does not match. */
function match(route: Compiled, parts: readonly string[]): number[] | null {
  const score: number[] = [];
  for (let i = 0; i < route.segments.length; i++) {
    const segment = route.segments[i] as Compiled["segments"][number];
    if (segment.kind === WILDCARD) return [...score, WILDCARD];
    const part = parts[i];
    if (part === undefined) return segment.optional && i === route.segments.length - 1 ? score : null;
    if (segment.kind === STATIC && segment.text !== part && segment.text !== safeDecode(part)) return null;
    score.push(segment.kind);
  }
  return parts.length === route.segments.length ? score : null;
}

function better(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return false;
}

/** Path segments; a trailing slash is ignored, as Elysia does unless strictPath is set. */
function split(path: string): string[] {
  const query = path.indexOf("?");
  const bare = query === -1 ? path : path.slice(0, query);
  return bare.split("/").filter((s) => s !== "");
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
