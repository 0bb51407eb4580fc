// The command model. A command declares its options with their types (an
// integer has a range, a duration a unit), the configuration sections it
// reads, and optionally sub-commands; `defineCommand` turns the raw flags into
// typed values with one parser and one wording of its errors, so that no
// command parses a number by itself. Commands throw on failure, never exit.
// A command imports what it runs inside run(), not at the top of its file:
// src/main.ts imports every command for its name and help, and `minitwit
// healthcheck` (every 5 s beside each replica) or `version` should not load
// the web server and the database drivers (tests/cli/loading.test.ts).
import type { ParseArgsConfig } from "node:util";
import type { Config, Flags, Section } from "../config/settings";
import { parseInteger } from "../config/values";
import { UsageError } from "../errors";

export type OptionSpec =
  | { readonly type: "boolean"; readonly short?: string }
  | { readonly type: "string"; readonly short?: string }
  | { readonly type: "integer"; readonly min: number; readonly max: number }
  /** A length of time: a bare number counts in `unit`, or give one (`90s`, `5m`, `2h`); read as milliseconds. */
  | { readonly type: "duration"; readonly unit: DurationUnit; readonly min: number; readonly max: number };

type DurationUnit = "ms" | "s" | "m" | "h" | "d";
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

type ValueOf<S extends OptionSpec> = S extends { type: "boolean" }
  ? boolean
  : S extends { type: "string" }
    ? string
    : number;
/** The typed values of the options given; durations in milliseconds. */
export type OptionValues<O extends OptionSpecs> = { readonly [K in keyof O]?: ValueOf<O[K]> };

export interface CommandContext<O extends OptionSpecs = OptionSpecs> {
  readonly config: Config;
  readonly args: string[];
  /** The options given, typed and checked; the raw flags stay with the model. */
  readonly options: OptionValues<O>;
  readonly out: (line: string) => void;
}

/** What a command returns: an exit status, or nothing for 0. */
type Outcome = Promise<number | undefined> | Promise<void>;

/** What main hands a command: the raw flags, which only the model reads. */
export interface RawContext extends Omit<CommandContext, "options"> {
  readonly flags: Flags;
}

export interface Subcommand<O extends OptionSpecs> {
  readonly summary: string;
  readonly usage: string;
  /** Which of the command's options this step takes. */
  readonly accepts: readonly (keyof O & string)[];
  run(ctx: CommandContext<O>): Outcome;
}

interface CommandDefinition<O extends OptionSpecs> {
  readonly name: string;
  readonly summary: string;
  /** Full help text, printed for `--help`. */
  readonly usage: string;
  readonly options: O;
  /** The configuration sections the command reads; only these are parsed. */
  readonly settings: readonly Section[];
  /** Positional arguments accepted, if any. */
  readonly positionals?: boolean;
  readonly subcommands?: Readonly<Record<string, Subcommand<O>>>;
  run?(ctx: CommandContext<O>): Outcome;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly settings: readonly Section[];
  /** The options in node:util's parseArgs form. */
  readonly parseOptions: NonNullable<ParseArgsConfig["options"]>;
  readonly positionals: boolean;
  /** The help text for `minitwit <name> [step] --help`. */
  helpFor(args: readonly string[]): string;
  /** Exit status; most commands return nothing for 0. */
  run(ctx: RawContext): Promise<number | undefined>;
}

export function defineCommand<O extends OptionSpecs>(definition: CommandDefinition<O>): Command {
  const { name, options, subcommands } = definition;
  return {
    name,
    summary: definition.summary,
    usage: definition.usage,
    settings: definition.settings,
    parseOptions: Object.fromEntries(
      Object.entries(options).map(([flag, spec]) => {
        const short = "short" in spec ? spec.short : undefined;
        const type = spec.type === "boolean" ? "boolean" : "string";
        return [flag, short === undefined ? { type } : { type, short }];
      }),
    ),
    positionals: definition.positionals === true || subcommands !== undefined,
    helpFor: (args) => subcommands?.[args[0] ?? ""]?.usage ?? definition.usage,
    async run(ctx) {
      const { flags, ...rest } = ctx;
      const typed = { ...rest, options: readOptions(options, flags, name) };
      if (subcommands === undefined) return (await definition.run?.(typed)) ?? undefined;
      const [step, ...stepArgs] = ctx.args;
      const steps = Object.keys(subcommands);
      const list = `${steps.slice(0, -1).join(", ")} or ${steps.at(-1)}`;
      if (step === undefined) throw new UsageError(`which step? ${list}`, name);
      const sub = subcommands[step];
      if (sub === undefined) throw new UsageError(`unknown step "${step}"; expected ${list}`, name);
      for (const [flag, value] of Object.entries(flags)) {
        if (value === undefined || flag === "help" || flag === "verbose") continue;
        if (!sub.accepts.includes(flag)) throw new UsageError(`--${flag} does not apply to ${step}`, name);
      }
      return (await sub.run({ ...typed, args: stepArgs })) ?? undefined;
    },
  };
}

/** Converts raw flags to typed values; a value out of its type or range is a usage error naming the flag. */
export function readOptions<O extends OptionSpecs>(specs: O, flags: Flags, command: string): OptionValues<O> {
  const values: Record<string, string | boolean | number> = {};
  for (const [flag, spec] of Object.entries(specs)) {
    const raw = flags[flag];
    if (raw === undefined) continue;
    if (spec.type === "boolean" || spec.type === "string") values[flag] = raw as string | boolean;
    else if (spec.type === "integer") values[flag] = integer(String(raw), `--${flag}`, spec.min, spec.max, command);
    else values[flag] = duration(String(raw), `--${flag}`, spec, command);
  }
  return values as OptionValues<O>;
}

function integer(raw: string, name: string, min: number, max: number, command: string): number {
  return parseInteger(raw, name, min, max, (message) => new UsageError(message, command));
}

const UNIT_MS: Record<DurationUnit, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

function duration(
  raw: string,
  name: string,
  spec: { unit: DurationUnit; min: number; max: number },
  command: string,
): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(raw.trim());
  const ms = match ? Number(match[1]) * UNIT_MS[(match[2] as DurationUnit | undefined) ?? spec.unit] : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms < spec.min * UNIT_MS[spec.unit] || ms > spec.max * UNIT_MS[spec.unit]) {
    throw new UsageError(
      `${name} must be an integer from ${spec.min} to ${spec.max} (${spec.unit}), or a duration such as 90s, 5m or 2h, got "${raw}"`,
      command,
    );
  }
  return ms;
}
