// What every subcommand provides. `main` parses the flags a command declares,
// builds the config, and calls `run`; commands throw on failure and never exit.
import type { ParseArgsConfig } from "node:util";
import type { Config } from "../config";

export type Options = NonNullable<ParseArgsConfig["options"]>;

export interface CommandContext {
  readonly config: Config;
  readonly args: string[];
  readonly flags: Readonly<Record<string, string | boolean | undefined>>;
  readonly out: (line: string) => void;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Full help text, printed for `--help`. */
  readonly usage: string;
  readonly options: Options;
  /** Positional arguments accepted, if any. */
  readonly positionals?: boolean;
  /** Exit status; most commands return nothing for 0. */
  run(ctx: CommandContext): Promise<number | undefined> | Promise<void>;
}

/** Flags shared by every command that opens the database. */
export const databaseOptions: Options = {
  "database-url": { type: "string" },
  "data-dir": { type: "string" },
  "log-level": { type: "string" },
};

export const DATABASE_HELP = `  --database-url URL   Postgres to use (env DATABASE_URL); default: embedded database
  --data-dir DIR       where the embedded database lives (env DATA_DIR, default ./data)
  --log-level LEVEL    fatal, error, warn, info, debug, trace or silent (env LOG_LEVEL)`;

/** Resolves with the name of the first SIGTERM or SIGINT: how a long-running command is asked to stop. */
export function stopSignal(): Promise<string> {
  return new Promise<string>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
}
