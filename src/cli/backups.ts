import { S3_HELP } from "./backup";
import { defineCommand } from "./command";

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
  async run({ config, flags, out }) {
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
    if (flags.json === true) {
      const rows = found.map(({ backup, manifest }) => ({
        key: backup.key,
        location: store.describe(backup.key),
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
    const where = store.describe(`${store.prefix}/`);
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

export function humanSize(bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function humanAge(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}
