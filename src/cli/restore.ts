import { runRestore } from "../backup/restore";
import { UsageError } from "../errors";
import { S3_HELP } from "./backup";
import { DATABASE_HELP, databaseOptions, defineCommand } from "./command";

export const restore = defineCommand({
  name: "restore",
  summary: "restore a backup from S3 into the database",
  settings: ["core", "database", "backup"],
  usage: `Usage: minitwit restore (--latest | --key KEY) [--force] [options]

Downloads a backup and checks its SHA-256 against its manifest before touching
the database, migrates the database to the backup's schema version, loads
every table in one transaction, moves every id sequence past the highest id,
and checks the row counts against the manifest. Any failure rolls back.
Refuses a database that already holds users, messages or follows unless
--force, which replaces them. Needs PostgreSQL (DATABASE_URL).

Options:
  --latest             restore the newest complete backup under BACKUP_PREFIX
  --key KEY            restore this backup: a name from 'minitwit backups', or a full key
  --force              replace the data of a database that already holds some
${DATABASE_HELP}

${S3_HELP}`,
  options: {
    ...databaseOptions,
    latest: { type: "boolean" },
    key: { type: "string" },
    force: { type: "boolean" },
  },
  async run({ config, flags, out }) {
    const latest = flags.latest === true;
    const key = typeof flags.key === "string" ? flags.key.trim() : undefined;
    if (latest && key !== undefined) throw new UsageError("give either --latest or --key, not both");
    if (!latest && key === undefined) throw new UsageError("say which backup to restore: --latest or --key KEY");
    if (key === "") throw new UsageError("--key needs a backup name");

    const result = await runRestore(config, {
      which: latest ? { latest: true } : { key: key as string },
      force: flags.force === true,
    });
    const { manifest } = result;
    out(`restored ${result.location} (taken ${manifest.createdAt}, schema ${manifest.schemaVersion})`);
    out(
      `  rows: ${Object.entries(manifest.tables)
        .map(([table, rows]) => `${table} ${rows}`)
        .join(", ")}`,
    );
  },
});
