#!/usr/bin/env bun
// The single entry point: picks the subcommand, parses its flags and the
// environment into one config, runs it, and is the only place that exits.
import { parseArgs } from "node:util";
import { backup } from "./cli/backup";
import { backups } from "./cli/backups";
import { checkAllow } from "./cli/check-allow";
import type { Command } from "./cli/command";
import { flag, unflag } from "./cli/flag";
import { healthcheck } from "./cli/healthcheck";
import { helpCommand, overview } from "./cli/help";
import { importCommand } from "./cli/import";
import { messages } from "./cli/messages";
import { migrate } from "./cli/migrate";
import { replicate } from "./cli/replicate";
import { restore } from "./cli/restore";
import { seed } from "./cli/seed";
import { serve } from "./cli/serve";
import { version } from "./cli/version";
import { loadConfig } from "./config";
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

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h") {
    // Bare `minitwit` is a usage error; `minitwit --help` asked for this.
    (name === undefined ? console.error : console.log)(overview(commands));
    return name === undefined ? 2 : 0;
  }
  if (name === "--version") return main(["version"]);
  const command = commands.find((c) => c.name === name);
  try {
    if (command === undefined) throw new UsageError(`unknown command "${name}"`);
    const { values, positionals } = parse(command, rest);
    if (values.help === true) {
      console.log(command.usage);
      return 0;
    }
    const config = loadConfig(process.env, values);
    const status = await command.run({
      config,
      args: positionals,
      flags: values,
      out: (line) => console.log(line),
    });
    return status ?? 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`minitwit: ${err.message}`);
      console.error(`Try: minitwit ${command ? `${command.name} --help` : "help"}`);
      return 2;
    }
    if (err instanceof ConfigError) {
      console.error(`minitwit: configuration: ${err.message}`);
      return 1;
    }
    console.error(`minitwit: ${(err as Error)?.message ?? String(err)}`);
    return 1;
  }
}

function parse(command: Command, args: string[]) {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...command.options, help: { type: "boolean", short: "h" } },
      allowPositionals: command.positionals === true,
      strict: true,
    });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (err) {
    // node:util reports unknown flags and missing values as TypeErrors.
    throw new UsageError((err as Error).message.split("\n")[0] ?? "invalid arguments", command.name);
  }
}

process.exit(await main(process.argv.slice(2)));
