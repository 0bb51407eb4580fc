import type { Which } from "../backup/restore";
import { UsageError } from "../errors";
import { defineCommand } from "./command";
import { DATABASE_HELP, databaseOptions, S3_HELP } from "./shared";

export const restore = defineCommand({
  name: "restore",
  summary: "restore a backup from S3 or a file into the database",
  settings: ["core", "database", "backup"],
  usage: `Usage: minitwit restore (--latest | --key KEY | --file PATH) [--force] [options]

Checks the whole backup before touching the database: from S3, its size and
SHA-256 against its manifest and the key against its encryption header. Then
migrates the database to the backup's schema version, loads every table's
rows in one transaction (only the COPY data: none of the script's statements
are run), moves every id sequence past the highest id, and checks the row
counts against the manifest. Any failure rolls back. Refuses a database that
already holds users, messages or follows unless --force, which replaces them.
Needs PostgreSQL (DATABASE_URL), not psql. Restores backups of every format
minitwit has written (.sql.gz, .sql.gz.age and the older .minitwit.gz).

Options:
  --latest             restore the newest complete backup under BACKUP_PREFIX
  --key KEY            restore this backup: a name from 'minitwit backups', or a full key
  --file PATH          restore a local file (plain or age-encrypted). A manifest next
                       to it (NAME.manifest.json, as 'backup --output' writes it or
                       as downloaded from S3) is checked like one in S3; without
                       one, the file is read once through gzip's checksum, age's
                       authentication and the row counts the script ends with
                       before anything is loaded (an old-format .minitwit.gz needs
                       its manifest)
  --force              replace the data of a database that already holds some
${DATABASE_HELP}

${S3_HELP}`,
  options: {
    ...databaseOptions,
    latest: { type: "boolean" },
    key: { type: "string" },
    file: { type: "string" },
    force: { type: "boolean" },
  },
  async run({ config, options, out }) {
    const which = whichBackup(options);
    const { runRestore } = await import("../backup/restore");
    const result = await runRestore(config, { which, force: options.force === true });
    const { manifest } = result;
    out(`restored ${result.location} (taken ${manifest.createdAt}, schema ${manifest.schemaVersion})`);
    if (!result.hadManifest) out("  no manifest next to the file: checked by its gzip, age and row-count checks alone");
    out(
      `  rows: ${Object.entries(manifest.tables)
        .map(([table, rows]) => `${table} ${rows}`)
        .join(", ")}`,
    );
  },
});

function whichBackup(options: { latest?: boolean; key?: string; file?: string }): Which {
  const latest = options.latest === true;
  const key = options.key?.trim();
  const file = options.file;
  const given = [latest, key !== undefined, file !== undefined].filter(Boolean).length;
  if (given > 1) throw new UsageError("give one of --latest, --key or --file, not several");
  if (given === 0) throw new UsageError("say which backup to restore: --latest, --key KEY or --file PATH");
  if (key === "") throw new UsageError("--key needs a backup name");
  if (file === "") throw new UsageError("--file needs a path");
  if (latest) return { latest: true };
  return key === undefined ? { file: file as string } : { key };
}
