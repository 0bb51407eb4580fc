// PostgreSQL connection URLs, written once for every setting and flag that
// takes one (DATABASE_URL, REPLICATION_*_URL, replicate --from/--to, import
// --from): what counts as one, how it is shown in messages and logs (never
// with its password), and the parts commands read from it.

/** Whether `value` is a postgres:// or postgresql:// URL. */
export function isPostgresUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
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

/** A URL fit for messages and logs: the password replaced. */
export function redactUrl(value: string): string {
  return value.replace(/(\/\/[^:/@]*:)[^@]*@/, "$1***@");
}

/** The URL with no password at all: what to tell an operator to point MiniTwit at. */
export function withoutPassword(value: string): string {
  if (!URL.canParse(value)) return redactUrl(value);
  const url = new URL(value);
  url.password = "";
  return url.toString();
}

/** The database name a URL points at (postgres.js defaults it to the user name). */
export function databaseName(url: string): string {
  const parsed = new URL(url);
  return decodeURIComponent(parsed.pathname.slice(1)) || decodeURIComponent(parsed.username) || "postgres";
}
