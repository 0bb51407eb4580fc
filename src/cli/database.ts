// Opens the database for an operator command, migrated, and always closes it.
// Operator commands log to stderr so their stdout stays clean for pipes.
import type { Config } from "../config/settings";
import type { Database } from "../database/open";
import type { Logger } from "../observability/log";

export async function withDatabase<T>(
  config: Config,
  work: (database: Database, log: Logger) => Promise<T>,
): Promise<T> {
  const [{ default: pino }, { openDatabase }, { createLogger }, { applyMigrations }] = await Promise.all([
    import("pino"),
    import("../database/open"),
    import("../observability/log"),
    import("../database/migrate"),
  ]);
  const log = createLogger(config.logLevel, pino.destination(2));
  const database = await openDatabase(config, log);
  try {
    await applyMigrations(database.db);
    return await work(database, log);
  } finally {
    await database.close();
  }
}
