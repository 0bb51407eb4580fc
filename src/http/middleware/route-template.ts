// Finds the route template a request path belongs to (`/msgs/:username`),
// for metric labels and log lines. Elysia only knows the matched route once
// its router ran, but requests answered earlier (the guard's refusals, the
// simulator API's 403) or never matched (404) must be labelled too, so the
// front door matches on its own against the app's route table. The result is
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
  // A match's score is its segment kinds as the digits of one number, most
  // significant first, so that comparing scores compares the kinds segment
  // by segment (a missing segment counts 0) without building a list per route.
  const digits = Math.max(0, ...table.map((r) => r.segments.length)) + 1;
  if (digits > MAX_DIGITS) throw new RangeError(`a route has more than ${MAX_DIGITS - 1} segments`);
  return (method, path) => {
    const parts = split(path);
    let best = UNMATCHED;
    let bestScore = 0;
    for (const route of table) {
      // HEAD is answered by the GET route, as Elysia does.
      if (route.method !== method && route.method !== "ALL" && !(method === "HEAD" && route.method === "GET")) continue;
      const score = match(route, parts, digits);
      if (score > bestScore) {
        best = route.template;
        bestScore = score;
      }
    }
    return best;
  };
}

// Scores are exact in a double up to 4^26.
const MAX_DIGITS = 26;

/** The score of the route for these path segments (above 0), or 0 when it does not match. */
function match(route: Compiled, parts: readonly string[], digits: number): number {
  const { segments } = route;
  // Any match scores above 0, even the root's, which has no segments.
  let score = 4 ** digits;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as Compiled["segments"][number];
    const weight = 4 ** (digits - 1 - i);
    if (segment.kind === WILDCARD) return score + WILDCARD * weight;
    const part = parts[i];
    if (part === undefined) return segment.optional && i === segments.length - 1 ? score : 0;
    if (
      segment.kind === STATIC &&
      segment.text !== part &&
      !(part.includes("%") && segment.text === safeDecode(part))
    ) {
      return 0;
    }
    score += segment.kind * weight;
  }
  return parts.length === segments.length ? score : 0;
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
