// Cross-site request protection without form tokens: scripts post the forms
// with no token and must keep working, so browsers are told apart by the
// headers they always send. A state-changing request is refused when the
// browser says it is cross-site (Sec-Fetch-Site) or its Origin is another
// host. Requests with neither header (scripts, old clients) pass.

export function isCrossSite(request: Request): boolean {
  const site = request.headers.get("sec-fetch-site");
  if (site === "cross-site") return true;
  const origin = request.headers.get("origin");
  if (origin === null) return false;
  if (origin === "null") return true;
  const host = request.headers.get("host");
  try {
    return host === null || new URL(origin).host !== host;
  } catch {
    return true;
  }
}
