// The process logger: pino JSON lines on stdout. Secrets are redacted here,
// once, for every caller.
import pino, { type Logger } from "pino";
import type { LogLevel } from "../config/settings";

export type { Logger };

export const REDACT_PATHS = [
  "pwd",
  "password",
  "password2",
  "*.pwd",
  "*.password",
  "*.password2",
  "headers.authorization",
  "headers.cookie",
  'headers["set-cookie"]',
  "*.headers.authorization",
  "*.headers.cookie",
];

// Lines are written to stdout in batches, not one write() each: the system
// call per line was the largest cost of the access line, which every request
// writes (docs/performance.md). A batch goes out when it holds BATCH_BYTES,
// FLUSH_MS after its first line, at once with a warning or worse (an operator
// watching a failure sees it without delay, after the lines before it), and
// at exit, synchronously, so a shutdown's last lines arrive in order. Only a
// process killed outright (SIGKILL, the OOM killer) can lose lines: the info
// lines of its last FLUSH_MS.
const BATCH_BYTES = 16_384;
const FLUSH_MS = 200;
const CALM_LINE = /^\{"level":"(info|debug|trace)"/;

export interface BatchedLines extends pino.DestinationStream {
  /** Writes what is held now. */
  flush(): void;
}

/** Holds pino's lines and hands them to `out` in batches, as described above. */
export function batchedLines(out: { write(text: string): unknown }, flushMs = FLUSH_MS): BatchedLines {
  let batch: string[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (batch.length === 0) return;
    const lines = batch.join("");
    batch = [];
    size = 0;
    out.write(lines);
  };
  return {
    flush,
    write(line: string) {
      batch.push(line);
      size += line.length;
      if (size >= BATCH_BYTES || !CALM_LINE.test(line)) flush();
      else timer ??= setTimeout(flush, flushMs).unref();
    },
  };
}

// One batch for the process's stdout, whichever logger writes to it: lines
// of every logger stay in order, and one exit hook writes what is held.
let sharedStdout: BatchedLines | undefined;

function stdout(): pino.DestinationStream {
  if (sharedStdout === undefined) {
    // SonicBoom writes each batch whole, synchronously, retrying a full pipe
    // (EAGAIN) as it does for single lines. Its own batching (minLength)
    // measures its whole buffer again on every line, hence the array above.
    sharedStdout = batchedLines(pino.destination({ dest: 1, sync: true }));
    process.once("exit", sharedStdout.flush);
  }
  return sharedStdout;
}

const BASE = { service: "minitwit" };

export function createLogger(level: LogLevel, destination: pino.DestinationStream = stdout()): Logger {
  return pino(
    {
      level,
      base: BASE,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    },
    destination,
  );
}

export type AccessLevel = "info" | "debug";

/** A pino logger as pino.symbols sees it: its destination under streamSym. */
type WithStream = { readonly [pino.symbols.streamSym]: pino.DestinationStream };

/**
 * Writes one access line a request, in the format of `log`'s own lines and
 * onto its destination, in order with them. Its fields are few, fixed and
 * none of them secret, so the line is one JSON.stringify: pino's redaction,
 * serializers and per-key escaping made it the most expensive thing the
 * observer did (docs/performance.md, "Layers"). pino.symbols is pino's
 * documented way in for integrations that need speed. The caller checks
 * `log.isLevelEnabled(level)` first, so a line not written is not built.
 */
export function accessLog(log: Logger): (level: AccessLevel, fields: Readonly<Record<string, unknown>>) => void {
  const destination = (log as unknown as WithStream)[pino.symbols.streamSym];
  return (level, fields) => {
    const line = { level, time: new Date().toISOString(), ...BASE, ...fields, msg: "request" };
    destination.write(`${JSON.stringify(line)}\n`);
  };
}
