import { defineCommand } from "./command";
import { DATABASE_HELP, databaseOptions } from "./shared";

export const migrate = defineCommand({
  name: "migrate",
  summary: "apply pending database migrations",
  settings: ["core", "database"],
  usage: `Usage: minitwit migrate [options]

Applies every pending migration under an advisory lock; safe to run from
several places at once and to re-run.

Options:
${DATABASE_HELP}`,
  options: databaseOptions,
  async run({ config, out }) {
    const [{ openDatabase }, { createLogger }, { applyMigrations }] = await Promise.all([
      import("../database/open"),
      import("../observability/log"),
      import("../database/migrate"),
    ]);
    const log = createLogger(config.logLevel);
    const database = await openDatabase(config, log);
    try {
      const { applied, version } = await applyMigrations(database.db);
      out(
        applied.length === 0 ? `schema is current (${version})` : `applied ${applied.join(", ")}; schema at ${version}`,
      );
    } finally {
      await database.close();
    }
  },
});
