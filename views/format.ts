// Text helpers for the views. @kitajs/html does not escape children, so every
// user-supplied string passes through `esc` — with the original MiniTwit's
// entities, which clients search pages for (`&#34;foo&#34;`).

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;" };

export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] as string);
}

/** Gravatar image for an email: md5 of the trimmed, lower-cased address. */
export function gravatarUrl(email: string, size = 48): string {
  const hash = new Bun.CryptoHasher("md5").update(email.trim().toLowerCase()).digest("hex");
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
