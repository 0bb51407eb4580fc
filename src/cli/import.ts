import { UsageError } from "../errors";
import type { ImportReport } from "../legacy-import/import";
import { defineCommand } from "./command";
import { withDatabase } from "./database";
import { DATABASE_HELP, databaseOptions } from "./shared";

export const importCommand = defineCommand({
  name: "import",
  summary: "import a legacy MiniTwit database (SQLite file or Postgres)",
  settings: ["core", "database"],
  usage: `Usage: minitwit import --from SOURCE [--force] [options]

Copies the users, follows and messages of a legacy MiniTwit database into this
one (DATABASE_URL, or the embedded database), keeping every id and every
legacy password hash: users sign in with their old passwords and get an
argon2id hash at that moment. Runs in one transaction; a failure changes
nothing. Duplicate follow rows and rows naming missing users are dropped and
counted. Refuses a database that already holds users, follows or messages.

SOURCE is one of:
  sqlite:///path/to/minitwit.db   the original SQLite file (absolute path)
  path/to/minitwit.db             the same, as a plain file path
  postgres://user:pass@host/db    a Postgres database with the legacy tables
                                  "user", follower and message

Options:
  --from SOURCE        the legacy database (required)
  --force              replace the users, follows and messages already here
${DATABASE_HELP}`,
  options: {
    ...databaseOptions,
    from: { type: "string" },
    force: { type: "boolean" },
  },
  async run({ config, options, out }) {
    const from = options.from?.trim() ?? "";
    if (from === "") throw new UsageError("--from is required", "import");
    const [{ importLegacy }, { openLegacySource }] = await Promise.all([
      import("../legacy-import/import"),
      import("../legacy-import/sources"),
    ]);
    const source = await openLegacySource(from);
    try {
      await withDatabase(config, async (database) => {
        const report = await importLegacy(database.db, source, { force: options.force === true });
        for (const line of summarize(report, database.location)) out(line);
      });
    } finally {
      await source.close();
    }
  },
});

function summarize(report: ImportReport, target: string): string[] {
  const { imported, dropped, hashes } = report;
  const lines = [
    `imported ${imported.users} users, ${imported.followers} follows and ${imported.messages} messages`,
    `  from ${report.source}`,
    `  into ${target}`,
    `dropped ${dropped.duplicateFollowers} duplicate follows, ${dropped.followersOfMissingUsers} follows and ` +
      `${dropped.messagesOfMissingUsers} messages naming missing users, ${dropped.incompleteRows} incomplete rows`,
    `password hashes: ${hashes.werkzeugPbkdf2} werkzeug pbkdf2, ${hashes.sha256} sha256, ${hashes.argon2} argon2 ` +
      "(legacy hashes become argon2id at each user's next sign-in)",
  ];
  if (report.messagesWithoutDate > 0) {
    lines.push(`warning: ${report.messagesWithoutDate} messages had no pub_date and were imported with 0 (1970-01-01)`);
  }
  if (hashes.unreadable > 0) {
    lines.push(`warning: ${hashes.unreadable} users have a password hash in no known format; they cannot sign in`);
  }
  return lines;
}
