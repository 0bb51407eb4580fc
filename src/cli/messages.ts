// `minitwit messages`: what moderators look through to find what to flag.
import { defineCommand } from "./command";
import { withDatabase } from "./database";
import { DATABASE_HELP, databaseOptions } from "./shared";

export const messages = defineCommand({
  name: "messages",
  summary: "list messages, newest first, flagged ones included",
  settings: ["core", "database"],
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
    limit: { type: "integer", min: 1, max: 10_000 },
    before: { type: "integer", min: 1, max: 2_147_483_647 },
    json: { type: "boolean" },
  },
  async run({ config, options, out }) {
    const { limit = 50, before } = options;
    const { listMessages } = await import("../store/moderation");
    return withDatabase(config, async (database) => {
      const found = await listMessages(database.db, {
        username: options.user,
        flaggedOnly: options.flagged === true,
        limit,
        before,
      });
      if (options.json === true) {
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
});

function iso(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace("T", " ").slice(0, 16);
}
