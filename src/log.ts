// The process logger: pino JSON lines on stdout. Secrets are redacted here,
// once, for every caller.
import pino, { type Logger } from "pino";
import type { LogLevel } from "./config";

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

// Synchronous writes: pino's default buffers and retries a full pipe 100 ms
// later, so lines written just before the process exits (a shutdown's last
// requests, the shutdown itself) were lost or reordered. One write per line
// costs nothing at MiniTwit's rates.
const stdout = () => pino.destination({ dest: 1, sync: true });

export function createLogger(level: LogLevel, destination: pino.DestinationStream = stdout()): Logger {
  return pino(
    {
      level,
      base: { service: "minitwit" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    },
    destination,
  );
}
