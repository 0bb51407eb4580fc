// `minitwit messages`: what moderators look through to find what to flag.
import { UsageError } from "../errors";
import { listMessages } from "../store/moderation";
import { type Command, DATABASE_HELP, databaseOptions } from "./command";
import { withDatabase } from "./database";

export const messages: Command = {
  name: "messages",
  summary: "list messages, newest first, flagged ones included",
  usage: `Usage: minitwit messages [--user NAME] [--flagged] [--limit N] [--before ID] [--json]

Lists messages newest first with id, author, date (UTC), flag and text.

Options:
  --user NAME          only this user's messages
  --flagged            only flagged messages
  --limit N            at most N messages (default 50, at most 10000)
  --before ID          only messages older than this id (for paging)
  --json               one JSON array instead of text lines
${DATABASE_HELP}`,
  options: {
    ...databaseOptions,
    user: { type: "string" },
    flagged: { type: "boolean" },
    limit: { type: "string" },
    before: { type: "string" },
    json: { type: "boolean" },
  },
  async run({ config, flags, out }) {
    const limit = flags.limit === undefined ? 50 : positive(flags.limit, "--limit", 10_000);
    const before = flags.before === undefined ? undefined : positive(flags.before, "--before", 2147483647);
    return withDatabase(config, async (database) => {
      const found = await listMessages(database.db, {
        username: typeof flags.user === "string" ? flags.user : undefined,
        flaggedOnly: flags.flagged === true,
        limit,
        before,
      });
      if (flags.json === true) {
        out(JSON.stringify(found.map((m) => ({ ...m, date: iso(m.pubDate) }))));
        return;
      }
      if (found.length === 0) out("no messages");
      for (const m of found) {
        const text = m.text.replace(/\s+/g, " ");
        out(`${m.messageId}\t${m.author}\t${iso(m.pubDate)}\t${m.flagged ? "flagged" : "-"}\t${text}`);
      }
    });
  },
};

function positive(value: string | boolean, flag: string, max: number): number {
  const n = typeof value === "string" && /^\d{1,10}$/.test(value) ? Number(value) : 0;
  if (n < 1 || n > max) throw new UsageError(`${flag} must be a whole number from 1 to ${max}`, "messages");
  return n;
}

function iso(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace("T", " ").slice(0, 16);
}
