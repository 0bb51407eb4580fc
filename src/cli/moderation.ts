// `minitwit flag` and `minitwit unflag`: hide or show messages, as the
// original's flag_tool did. All ids are checked before anything changes.
import { UsageError } from "../errors";
import type { FlagAction } from "../store/moderation";
import { type Command, defineCommand } from "./command";
import { withDatabase } from "./database";
import { DATABASE_HELP, databaseOptions } from "./shared";

function moderationCommand(action: FlagAction): Command {
  const verb = action === "flag" ? "hide" : "show again";
  return defineCommand({
    name: action,
    summary: `${verb} messages by id (moderation)`,
    settings: ["core", "database"],
    usage: `Usage: minitwit ${action} <message_id>...

${action === "flag" ? "Flags messages: they disappear from every timeline and from the API." : "Clears the flag: the messages appear again."}
Prints one line per id ("${action}ged 42", "already ${action}ged 44" or "no such
message 43") and exits 1 if any id is unknown. Ids that are not positive
integers change nothing and exit 2. Every change is logged with the
operator's USER and kept in the moderation_events table; a message that
already was as asked is left alone and not recorded. Safe to re-run.

Options:
${DATABASE_HELP}`,
    options: databaseOptions,
    positionals: true,
    async run({ config, args, out }) {
      if (args.length === 0) throw new UsageError("give at least one message id", action);
      const bad = args.filter((a) => !/^[1-9]\d{0,9}$/.test(a) || Number(a) > 2147483647);
      if (bad.length > 0) {
        throw new UsageError(
          `not a message id: ${bad.map((b) => JSON.stringify(b)).join(", ")}; nothing changed`,
          action,
        );
      }
      const ids = [...new Set(args.map(Number))];
      const { setFlagged } = await import("../store/moderation");
      return withDatabase(config, async (database, log) => {
        const { changed, unchanged } = await setFlagged(
          database.db,
          ids,
          action,
          config.operator,
          Math.floor(Date.now() / 1000),
        );
        for (const id of ids) {
          if (changed.has(id)) {
            log.info({ messageId: id, action, operator: config.operator }, `message ${action}ged`);
            out(`${action}ged ${id}`);
          } else if (unchanged.has(id)) {
            out(`already ${action}ged ${id}`);
          } else {
            out(`no such message ${id}`);
          }
        }
        return changed.size + unchanged.size === ids.length ? 0 : 1;
      });
    },
  });
}

export const flag = moderationCommand("flag");
export const unflag = moderationCommand("unflag");
