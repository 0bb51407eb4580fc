// Request bodies, read by one parser for every route that takes a body, on
// every surface. It reads at most the body cap (MAX_BODY_BYTES) whether or not
// the client sent a Content-Length, so an oversize body is answered here, with
// the security headers, and never by the server below. JSON nesting is
// bounded before JSON.parse and before validation: a body of a few thousand
// `[` fits under the cap, parses, and then overflows the stack in the
// validator's error report.
// Errors thrown here reach the error mapper wrapped in Elysia's ParseError.
import { Elysia } from "elysia";
import { HttpError } from "../../errors";

/** Deeper than any body MiniTwit accepts (its objects are one level deep). */
export const MAX_JSON_DEPTH = 32;

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Whether objects and arrays in `text` nest deeper than `max` (strings are skipped; the text need not be valid JSON). */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/** Whether a `Content-Type` header names JSON (parameters such as charset allowed). */
export function isJsonContentType(header: string | null): boolean {
  return header !== null && mediaType(header) === "application/json";
}

function mediaType(header: string): string {
  const semicolon = header.indexOf(";");
  return (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase();
}

/** The body as text, refused with 413 as soon as it grows past `maxBytes`. */
async function readCapped(request: Request, maxBytes: number): Promise<string> {
  if (request.body === null) return "";
  // With a Content-Length within the cap (the guard refused larger ones),
  // Bun stops reading at that length, so the body is read whole, natively:
  // pulling it through a ReadableStream in JavaScript was one of the largest
  // costs of an API write (docs/performance.md). Chunked bodies, whose
  // framing wins over any Content-Length they also claim, are read in chunks.
  const declared = request.headers.get("content-length");
  if (declared !== null && request.headers.get("transfer-encoding") === null && Number(declared) <= maxBytes) {
    return request.text();
  }
  const tooLarge = () => new HttpError(413, `The request body is too large (at most ${maxBytes} bytes)`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.byteLength;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** A form body as an object; a repeated field becomes a list (which validation then refuses). */
function parseForm(text: string): Record<string, string | string[]> {
  const form: Record<string, string | string[]> = Object.create(null);
  for (const [key, value] of new URLSearchParams(text)) {
    const seen = form[key];
    form[key] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  return form;
}

/** Installs the parser on every route of the app that uses it. */
export function bodyParsing(maxBytes: number) {
  return new Elysia({ name: "body-parser" }).onParse(bodyParser(maxBytes)).as("global");
}

/** The parsed body: JSON or a URL-encoded form; any other type is refused with 415. */
function bodyParser(maxBytes: number) {
  return async ({ request }: { request: Request }): Promise<unknown> => {
    const type = mediaType(request.headers.get("content-type") ?? "");
    if (type !== "application/json" && type !== "application/x-www-form-urlencoded") {
      throw new HttpError(415, "The request body must be JSON or a URL-encoded form");
    }
    const text = await readCapped(request, maxBytes);
    if (type === "application/x-www-form-urlencoded") return parseForm(text);
    if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
      throw new HttpError(400, `The request body is nested too deeply (at most ${MAX_JSON_DEPTH} levels)`);
    }
    return JSON.parse(text);
  };
}
