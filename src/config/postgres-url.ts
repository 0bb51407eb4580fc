// PostgreSQL connection URLs, written once for every setting and flag that
// takes one (DATABASE_URL, REPLICATION_*_URL, replicate --from/--to, import
// --from): what counts as one, how it is shown in messages and logs (never
// with its password), and the parts commands read from it.
//
// A URL may list several servers, as libpq's do:
// `postgres://user:pw@old:5432,new:5432/minitwit`. MiniTwit uses the first
// one that a move (`minitwit replicate cutover`) has not retired, which is
// how replicas follow a move to a new database (src/database/follow.ts).

/** Whether `value` is a postgres:// or postgresql:// URL (with the "//": `postgres:u:p@h` is a path, not a server). */
export function isPostgresUrl(value: string): boolean {
  if (!/^postgres(ql)?:\/\//i.test(value)) return false;
  return serverUrls(value).every((url) => URL.canParse(url));
}

/**
 * One URL for each server a URL lists, in its order, each with the same
 * user, password, database and parameters: `postgres://u@a,b:5433/db` gives
 * `postgres://u@a/db` and `postgres://u@b:5433/db`.
 */
export function serverUrls(value: string): string[] {
  const { before, hosts, after } = authority(value);
  return hosts.split(",").map((host) => before + host + after);
}

/**
 * What is wrong with `value` as a PostgreSQL URL, worded to follow the name
 * of the setting or flag (`DATABASE_URL must be …`), or null when it is one.
 */
export function postgresUrlProblem(value: string): string | null {
  return isPostgresUrl(value) ? null : `must be a postgres:// URL, got "${redactUrl(value)}"`;
}

/** A URL cut around its list of servers: the scheme and user information, the servers, the rest. */
function authority(value: string): { before: string; hosts: string; after: string } {
  const start = value.indexOf("//") + 2;
  const at = value.lastIndexOf("@");
  const hostsFrom = at >= start ? at + 1 : start;
  const rest = /[/?#]/.exec(value.slice(hostsFrom));
  const hostsTo = rest === null ? value.length : hostsFrom + rest.index;
  return { before: value.slice(0, hostsFrom), hosts: value.slice(hostsFrom, hostsTo), after: value.slice(hostsTo) };
}

/**
 * A URL fit for messages and logs: the password replaced, also in a value
 * that is no valid URL. The user information runs to the last "@" (a
 * password may hold "@", "/" or ":" unencoded), and a `password` query
 * parameter is a password too.
 */
export function redactUrl(value: string): string {
  const query = value.replace(/([?&](?:ssl)?password=)[^&#]*/gi, "$1***");
  const at = query.lastIndexOf("@");
  if (at === -1) return query;
  const authority = query.indexOf("//");
  if (authority !== -1 && authority < at) {
    const colon = query.indexOf(":", authority + 2);
    return colon !== -1 && colon < at ? `${query.slice(0, colon + 1)}***${query.slice(at)}` : query;
  }
  // No "//": whatever stands between the scheme and the last "@" may be a password.
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(query)?.[0] ?? "";
  return `${scheme}***${query.slice(at)}`;
}

/** The URL with no password at all: what to tell an operator to point MiniTwit at. */
export function withoutPassword(value: string): string {
  if (!isPostgresUrl(value)) return redactUrl(value);
  const first = new URL(serverUrls(value)[0] as string);
  const { hosts, after } = authority(value);
  const user = first.username === "" ? "" : `${first.username}@`;
  return redactUrl(`${first.protocol}//${user}${hosts}${after}`);
}

/** `url` with `password` put in for every server it lists; `url` names a user and no password. */
export function withPassword(url: string, password: string): string {
  const first = new URL(serverUrls(url)[0] as string);
  first.password = encodeURIComponent(password);
  const { hosts, after } = authority(url);
  return `${first.protocol}//${first.username}:${first.password}@${hosts}${after}`;
}

/** The database name a URL points at (postgres.js defaults it to the user name). */
export function databaseName(url: string): string {
  const parsed = new URL(serverUrls(url)[0] as string);
  return decodeURIComponent(parsed.pathname.slice(1)) || decodeURIComponent(parsed.username) || "postgres";
}
