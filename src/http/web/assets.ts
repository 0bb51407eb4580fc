// The stylesheet, embedded in the binary and served under a content hash so
// browsers may cache it for a year: a new stylesheet gets a new URL.
import { Elysia } from "elysia";
import css from "../../../views/style.css" with { type: "text" };

const hash = new Bun.CryptoHasher("sha256").update(css).digest("hex").slice(0, 12);

export const STYLESHEET_PATH = `/static/style.${hash}.css`;

export const assets = new Elysia({ name: "assets" }).get(
  STYLESHEET_PATH,
  () =>
    new Response(css, {
      headers: {
        "content-type": "text/css; charset=utf-8",
        "cache-control": "public, max-age=31536000, immutable",
      },
    }),
);
