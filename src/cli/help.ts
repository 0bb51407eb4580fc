import { type Command, defineCommand } from "./command";

/** `minitwit help [command [step]]`: the overview, or one command's (or step's) usage. */
export function helpCommand(commands: () => readonly Command[]): Command {
  return defineCommand({
    name: "help",
    summary: "show help for minitwit or one command",
    settings: [],
    usage: "Usage: minitwit help [command [step]]",
    options: {},
    positionals: true,
    async run({ args, out }) {
      const all = commands();
      const [name, ...rest] = args;
      const named = all.find((c) => c.name === name);
      out(named ? named.helpFor(rest) : overview(all));
    },
  });
}

export function overview(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `MiniTwit: a small micro-blog, its simulator API, and its operations.

Usage: minitwit <command> [options]

Commands:
${lines.join("\n")}

Run 'minitwit <command> --help' for a command's options; add --verbose to any
command (or set LOG_LEVEL=debug) to see the causes behind an error.`;
}
