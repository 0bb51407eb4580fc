import { defineCommand } from "./command";
import { humanAge, humanSize, S3_HELP } from "./shared";

export const backups = defineCommand({
  name: "backups",
  summary: "list the backups stored in S3, newest first",
  settings: ["core", "backup"],
  usage: `Usage: minitwit backups [--json]

Lists the backups under BACKUP_PREFIX, newest first, with their size, age,
schema version and whether they are encrypted. A backup without a manifest is
an upload that never finished: it is shown as incomplete and never restored.

Options:
  --json               one JSON array instead of the table

${S3_HELP}`,
  options: { json: { type: "boolean" } },
  async run({ config, options, out }) {
    const [{ listBackups, readManifest }, { requireS3 }] = await Promise.all([
      import("../backup/catalog"),
      import("../backup/targets/s3"),
    ]);
    const store = requireS3(config);
    const now = Date.now();
    const found = await Promise.all(
      (await listBackups(store)).map(async (backup) => ({
        backup,
        manifest: backup.complete ? await readManifest(store, backup.key) : null,
      })),
    );
    if (options.json === true) {
      const rows = found.map(({ backup, manifest }) => ({
        key: backup.key,
        location: store.where(backup.key),
        database: backup.database,
        createdAt: backup.createdAt.toISOString(),
        ageSeconds: Math.round((now - backup.createdAt.getTime()) / 1000),
        size: backup.size,
        complete: manifest !== null,
        schemaVersion: manifest?.schemaVersion ?? null,
        encrypted: manifest?.encrypted ?? null,
        tables: manifest?.tables ?? null,
      }));
      out(JSON.stringify(rows, null, 2));
      return;
    }
    const where = store.where(`${store.prefix}/`);
    if (found.length === 0) {
      out(`no backups in ${where}`);
      return;
    }
    out(`${found.length} backup${found.length === 1 ? "" : "s"} in ${where}, newest first:`);
    const table = [
      ["NAME", "SIZE", "AGE", "SCHEMA", "ENCRYPTED"],
      ...found.map(({ backup, manifest }) => [
        backup.key.slice(store.prefix.length + 1),
        humanSize(backup.size),
        humanAge(now - backup.createdAt.getTime()),
        manifest?.schemaVersion ?? "incomplete: no manifest",
        manifest === null ? "" : manifest.encrypted ? "yes" : "no",
      ]),
    ];
    const widths = table[0]?.map((_, i) => Math.max(...table.map((row) => (row[i] ?? "").length))) ?? [];
    for (const row of table)
      out(
        row
          .map((cell, i) => cell.padEnd(widths[i] ?? 0))
          .join("  ")
          .trimEnd(),
      );
  },
});
