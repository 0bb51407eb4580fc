// The one place where failures become responses. Typed errors and Elysia's
// own (bad JSON, schema mismatch, unknown route) map to a status and a message
// the client may see; anything else is a 500 whose cause is logged, never sent.
import { Elysia, ParseError, ValidationError } from "elysia";
import { isDatabaseUnavailable, isUnstorableInput } from "../../database/faults";
import { HttpError } from "../../errors";
import type { Logger } from "../../observability/log";
import { requestId } from "./observe";

const JSON_HEADERS = { "content-type": "application/json" };

/** The simulator API's error body: `{"status": N, "error_msg": "..."}`. */
export function apiError(status: number, message: string): Response {
  return new Response(JSON.stringify({ status, error_msg: message }), { status, headers: JSON_HEADERS });
}

export type RenderErrorPage = (status: number, message: string) => string;

/**
 * Maps errors for one surface. `isApi` decides per path whether the client
 * gets the JSON error body or the HTML page.
 */
export function errorMapper(log: Logger, isApi: (path: string) => boolean, renderPage: RenderErrorPage) {
  return new Elysia({ name: "error-mapper" }).onError({ as: "global" }, ({ code, error, request, path }) => {
    const { status, message } = classify(code, error);
    // The one log line of a failure, with its stack; the access line that
    // follows carries the same reqId and only the status.
    const reqId = requestId(request);
    if (status === 503) log.warn({ reqId, method: request.method, path, cause: String(error) }, "database unavailable");
    else if (status >= 500) log.error({ err: error, reqId, method: request.method, path }, "request failed");
    if (isApi(path)) return apiError(status, message);
    return new Response(renderPage(status, message), {
      status,
      headers: { "content-type": "text/html; charset=utf-8" },
    });
  });
}

function classify(code: string | number, error: unknown): { status: number; message: string } {
  if (error instanceof HttpError) return { status: error.status, message: error.message };
  // A refusal from our own body parser (body-parsing.ts), wrapped by Elysia.
  if (error instanceof ParseError && error.cause instanceof HttpError) {
    return { status: error.cause.status, message: error.cause.message };
  }
  if (isUnstorableInput(error)) {
    return { status: 400, message: "The request contains text that cannot be stored (such as a NUL character)" };
  }
  if (isDatabaseUnavailable(error)) {
    return { status: 503, message: "The database is unavailable right now; try again shortly" };
  }
  switch (code) {
    case "PARSE":
      return { status: 400, message: "The request body is not valid JSON" };
    case "VALIDATION":
      return { status: 400, message: validationMessage(error) };
    case "NOT_FOUND":
      return { status: 404, message: "Not found" };
    case "INVALID_COOKIE_SIGNATURE":
      return { status: 400, message: "Invalid cookie" };
    default:
      return { status: 500, message: "Internal server error" };
  }
}

function validationMessage(error: unknown): string {
  if (!(error instanceof ValidationError)) return "The request is not valid";
  const first = error.valueError;
  if (first === undefined) return "The request is not valid";
  const field = first.path.replace(/^\//, "").replaceAll("/", ".");
  const where = error.type === "body" ? "request body" : error.type;
  if (field === "") return `Invalid ${where}: expected a JSON object`;
  if (first.value === undefined) return `Invalid ${where}: "${field}" is required`;
  const maxLength = (first.schema as { maxLength?: unknown }).maxLength;
  if (typeof first.value === "string" && typeof maxLength === "number" && first.value.length > maxLength) {
    return `Invalid ${where}: "${field}" must be at most ${maxLength} characters`;
  }
  return `Invalid ${where}: "${field}" must be a ${expectedType(first.schema)}`;
}

function expectedType(schema: unknown): string {
  const type = (schema as { type?: unknown }).type;
  return typeof type === "string" ? type : "valid value";
}
