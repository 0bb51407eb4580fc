// Text helpers for the views. @kitajs/html does not escape children, so every
// user-supplied string passes through `esc` — with the original MiniTwit's
// entities, which clients search pages for (`&#34;foo&#34;`).

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;" };

export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] as string);
}

// A page shows 30 messages by a handful of authors; hashing each address
// once, not once per message, saves a measurable share of a timeline page's
// CPU (docs/performance.md). Bounded, so
// a long-running server with many authors does not grow without limit.
const gravatarHashes = new Map<string, string>();
const GRAVATAR_CACHE_SIZE = 10_000;

/** Gravatar image for an email: md5 of the trimmed, lower-cased address. */
export function gravatarUrl(email: string, size = 48): string {
  let hash = gravatarHashes.get(email);
  if (hash === undefined) {
    hash = new Bun.CryptoHasher("md5").update(email.trim().toLowerCase()).digest("hex");
    if (gravatarHashes.size >= GRAVATAR_CACHE_SIZE) gravatarHashes.clear();
    gravatarHashes.set(email, hash);
  }
  return `https://www.gravatar.com/avatar/${hash}?d=identicon&s=${size}`;
}

/** `YYYY-MM-DD @ HH:MM` in UTC, from unix seconds. */
export function formatDate(unixSeconds: number): string {
  const iso = new Date(unixSeconds * 1000).toISOString();
  return `${iso.slice(0, 10)} @ ${iso.slice(11, 16)}`;
}

/** The path of a user's timeline. */
export function userPath(username: string): string {
  return `/${encodeURIComponent(username)}`;
}
