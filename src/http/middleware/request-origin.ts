// Where a request comes from. Behind a reverse proxy the socket peer is the
// proxy; X-Forwarded-For and X-Forwarded-Proto are believed only when that
// peer is in TRUSTED_PROXIES, otherwise anyone could claim any address or
// scheme. Logs, throttling and allow-lists all ask here. And whether a
// browser sent it from another site (cross-site request protection).
import { type Cidr, inRanges } from "../../config/cidr";

/** The path of a request URL, without the query string (cheaper than new URL()). */
export function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  const query = url.indexOf("?", start);
  return url.slice(start, query === -1 ? undefined : query);
}

export interface Peer {
  requestIP(request: Request): { address: string } | null;
}

// Asking the server for a request's peer address costs a system call and an
// object; the guard, the sign-in throttle and the access line all need it.
const peers = new WeakMap<Request, string>();

export function socketAddress(server: Peer | null | undefined, request: Request): string {
  let address = peers.get(request);
  if (address === undefined) {
    address = server?.requestIP(request)?.address ?? "unknown";
    peers.set(request, address);
  }
  return address;
}

/**
 * The client's address: the socket peer, or — when the peer is a trusted
 * proxy — the right-most X-Forwarded-For entry that is not itself trusted.
 */
export function clientAddress(server: Peer | null | undefined, request: Request, trusted: readonly Cidr[]): string {
  const peer = socketAddress(server, request);
  if (trusted.length === 0 || !inRanges(peer, trusted)) return peer;
  const forwarded = request.headers.get("x-forwarded-for");
  if (forwarded === null) return peer;
  const hops = forwarded
    .split(",")
    .map((h) => h.trim())
    .filter((h) => h !== "");
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] as string;
    if (!inRanges(hop, trusted)) return hop;
  }
  return hops[0] ?? peer;
}

/** Whether the client reached us over HTTPS (directly, or through a trusted proxy). */
export function isHttps(server: Peer | null | undefined, request: Request, trusted: readonly Cidr[]): boolean {
  if (request.url.startsWith("https:")) return true;
  if (trusted.length === 0 || !inRanges(socketAddress(server, request), trusted)) return false;
  return request.headers.get("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase() === "https";
}

// Cross-site request protection without form tokens: scripts post the forms
// with no token and must keep working, so browsers are told apart by the
// headers they always send. A state-changing request is refused when the
// browser says it is cross-site (Sec-Fetch-Site) or its Origin is not this
// site's: scheme, host and port (an https page of the same host is another
// origin for an http site, and the other way round). Requests with neither
// header (scripts, old clients) pass.

/** @param secure whether the client reached this site over HTTPS (isHttps) */
export function isCrossSite(request: Request, secure: boolean): boolean {
  const site = request.headers.get("sec-fetch-site");
  if (site === "cross-site") return true;
  const origin = request.headers.get("origin");
  if (origin === null) return false;
  if (origin === "null") return true;
  const host = request.headers.get("host");
  if (host === null) return true;
  try {
    // URL drops a scheme's default port, so `http://h:80` and `http://h` are one origin.
    return new URL(origin).origin !== new URL(`${secure ? "https" : "http"}://${host}`).origin;
  } catch {
    return true;
  }
}
