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

export function createLogger(level: LogLevel, destination: pino.DestinationStream = pino.destination(1)): Logger {
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
