#!/usr/bin/env bun
// The single entry point: picks the subcommand, parses its flags and the
// configuration sections it declares, runs it, and is the only place that
// exits (0 ok, 1 failure, 2 usage error with a "Try:" hint).
import { parseArgs } from "node:util";
import { backup } from "./cli/backup";
import { backups } from "./cli/backups";
import { checkAllow } from "./cli/check-allow";
import type { Command } from "./cli/command";
import { healthcheck } from "./cli/healthcheck";
import { helpCommand, overview } from "./cli/help";
import { importCommand } from "./cli/import";
import { messages } from "./cli/messages";
import { migrate } from "./cli/migrate";
import { flag, unflag } from "./cli/moderation";
import { replicate } from "./cli/replicate";
import { restore } from "./cli/restore";
import { seed } from "./cli/seed";
import { serve } from "./cli/serve";
import { version } from "./cli/version";
import { type Env, loadConfig } from "./config/settings";
import { ConfigError, UsageError } from "./errors";

const commands: readonly Command[] = [
  serve,
  migrate,
  backup,
  restore,
  backups,
  replicate,
  importCommand,
  seed,
  healthcheck,
  messages,
  flag,
  unflag,
  checkAllow,
  version,
  helpCommand(() => commands),
];

async function main(argv: string[], env: Env): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h") {
    // Bare `minitwit` is a usage error; `minitwit --help` asked for this.
    (name === undefined ? console.error : console.log)(overview(commands));
    return name === undefined ? 2 : 0;
  }
  if (name === "--version") return main(["version"], env);
  const command = commands.find((c) => c.name === name);
  let verbose = /^(debug|trace)$/i.test(env.LOG_LEVEL ?? "") || rest.includes("--verbose");
  try {
    if (command === undefined) throw new UsageError(`unknown command "${name}"`);
    const { values, positionals } = parse(command, rest);
    verbose ||= values.verbose === true;
    if (values.help === true) {
      console.log(command.helpFor(positionals));
      return 0;
    }
    const config = loadConfig(env, values, command.settings);
    const status = await command.run({
      config,
      args: positionals,
      flags: values,
      out: (line) => console.log(line),
    });
    return status ?? 0;
  } catch (err) {
    return report(err, command, verbose);
  }
}

/** Prints an error as the exit code it maps to says; with --verbose, every cause behind it. */
function report(err: unknown, command: Command | undefined, verbose: boolean): number {
  if (err instanceof UsageError) {
    console.error(`minitwit: ${err.message}`);
    console.error(`Try: minitwit ${command ? `${command.name} --help` : "help"}`);
    return 2;
  }
  const prefix = err instanceof ConfigError ? "minitwit: configuration: " : "minitwit: ";
  console.error(`${prefix}${withoutSecrets(oneLine(err))}`);
  if (verbose) {
    for (let cause = (err as Error)?.cause; cause !== undefined; cause = (cause as Error)?.cause) {
      console.error(`  caused by: ${withoutSecrets((cause as Error)?.message ?? String(cause))}`);
    }
  }
  return 1;
}

/** What a PostgreSQL error (postgres.js's or PGlite's) carries: its message and SQLSTATE. */
interface DatabaseFault {
  readonly message: string;
  readonly code: string;
  readonly severity: string;
  readonly hint?: string;
}

/**
 * The error as one line that names its cause. A query the database refused
 * reads as PostgreSQL's own words and SQLSTATE with the statement's first
 * line, not as the driver's "Failed query: <the SQL>, params: …"; a missing
 * privilege (42501) says so and what to do. Other causes stay for --verbose.
 */
function oneLine(err: unknown): string {
  const message = (err as Error)?.message ?? String(err);
  let fault: DatabaseFault | undefined;
  for (let e = err, depth = 0; e instanceof Object && depth < 8; e = (e as Error).cause, depth++) {
    const { code, severity } = e as Partial<DatabaseFault>;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && typeof severity === "string") {
      fault = e as DatabaseFault;
      break;
    }
  }
  if (fault === undefined) return message;
  const query = (err as { query?: unknown }).query;
  const statement =
    typeof query === "string"
      ? query
          .trim()
          .split("\n")[0]
          ?.slice(0, 100)
          .replace(/\s*\($/, "")
      : undefined;
  let line = message.startsWith("Failed query:")
    ? `${fault.message}${statement ? ` (in: ${statement})` : ""}`
    : message.includes(fault.message)
      ? message
      : `${message}: ${fault.message}`;
  if (fault.hint && !line.includes(fault.hint)) line += `. ${fault.hint}`;
  line += ` [SQLSTATE ${fault.code}]`;
  if (fault.code === "42501") {
    line +=
      "; the database role MiniTwit connects as lacks a privilege: connect as the role that owns MiniTwit's tables " +
      "(the one that created them), or make it their owner";
  }
  return line;
}

/**
 * The last guard on what an error prints: MiniTwit's own messages never hold
 * a secret, but a library's (a cause shown with --verbose) may quote what it
 * was given, such as an age identity it could not parse.
 */
function withoutSecrets(message: string): string {
  return message.replace(/AGE-(SECRET-KEY|PLUGIN)-[0-9A-Z-]{8,}/gi, "AGE-$1-…");
}

function parse(command: Command, args: string[]) {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...command.parseOptions, help: { type: "boolean", short: "h" }, verbose: { type: "boolean" } },
      allowPositionals: command.positionals,
      strict: true,
    });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (err) {
    // node:util reports unknown flags and missing values as TypeErrors.
    throw new UsageError((err as Error).message.split("\n")[0] ?? "invalid arguments", command.name, { cause: err });
  }
}

process.exit(await main(process.argv.slice(2), process.env));
