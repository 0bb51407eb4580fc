import type { Command } from "./command";

/** `minitwit help [command]`: the overview, or one command's usage. */
export function helpCommand(commands: () => readonly Command[]): Command {
  return {
    name: "help",
    summary: "show help for minitwit or one command",
    usage: "Usage: minitwit help [command]",
    options: {},
    positionals: true,
    async run({ args, out }) {
      const all = commands();
      const named = all.find((c) => c.name === args[0]);
      out(named ? named.usage : overview(all));
    },
  };
}

export function overview(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `MiniTwit: a small micro-blog, its simulator API, and its operations.

Usage: minitwit <command> [options]

Commands:
${lines.join("\n")}

Run 'minitwit <command> --help' for a command's options.`;
}
