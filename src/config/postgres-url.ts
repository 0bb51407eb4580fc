// PostgreSQL connection URLs, written once for every setting and flag that
// takes one (DATABASE_URL, REPLICATION_*_URL, replicate --from/--to, import
// --from): what counts as one, how it is shown in messages and logs (never
// with its password), and the parts commands read from it.

/** Whether `value` is a postgres:// or postgresql:// URL (with the "//": `postgres:u:p@h` is a path, not a server). */
export function isPostgresUrl(value: string): boolean {
  if (!URL.canParse(value) || !/^postgres(ql)?:\/\//i.test(value)) return false;
  const { protocol } = new URL(value);
  return protocol === "postgres:" || protocol === "postgresql:";
}

/**
 * What is wrong with `value` as a PostgreSQL URL, worded to follow the name
 * of the setting or flag (`DATABASE_URL must be …`), or null when it is one.
 */
export function postgresUrlProblem(value: string): string | null {
  return isPostgresUrl(value) ? null : `must be a postgres:// URL, got "${redactUrl(value)}"`;
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
  if (!URL.canParse(value)) return redactUrl(value);
  const url = new URL(value);
  url.password = "";
  return redactUrl(url.toString());
}

/** The database name a URL points at (postgres.js defaults it to the user name). */
export function databaseName(url: string): string {
  const parsed = new URL(url);
  return decodeURIComponent(parsed.pathname.slice(1)) || decodeURIComponent(parsed.username) || "postgres";
}
