// Shared by the backup tests: configs pointing at a database and a test S3,
// a faithful dump of every table for comparing databases, and the
// foreign-key checks a consistent snapshot must pass.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateX25519Identity, identityToRecipient } from "age-encryption";
import postgres from "postgres";
import { type Config, loadConfig } from "../../src/config/settings";
import type { TestS3 } from "./s3";

/** An age key pair: the identity in a file, as age-keygen writes it, and its public key. */
export interface AgeKey {
  readonly identityFile: string;
  readonly recipient: string;
}

/** A fresh age key pair (made with the library; `age -d -i FILE` reads the file as well). */
export async function ageKey(): Promise<AgeKey> {
  const identity = await generateX25519Identity();
  const recipient = await identityToRecipient(identity);
  const identityFile = join(mkdtempSync(join(tmpdir(), "minitwit-age-")), "key.txt");
  writeFileSync(identityFile, `# public key: ${recipient}\n${identity}\n`, { mode: 0o600 });
  return { identityFile, recipient };
}

/** The environment that encrypts backups to `key` and decrypts them with it. */
export function ageEnv(key: AgeKey): Record<string, string> {
  return { BACKUP_AGE_RECIPIENTS: key.recipient, BACKUP_AGE_IDENTITY_FILE: key.identityFile };
}

/** A unique BACKUP_PREFIX per test: tests sharing one S3 server never see each other's backups. */
export function uniquePrefix(what: string): string {
  return `${what}-${crypto.randomUUID().slice(0, 8)}`;
}

export function backupConfig(
  s3: TestS3,
  prefix: string,
  databaseUrl: string | null,
  extra: Record<string, string> = {},
): Config {
  return loadConfig({
    ...s3.env(prefix),
    ...(databaseUrl === null
      ? { DATA_DIR: mkdtempSync(join(tmpdir(), "minitwit-data-")) }
      : { DATABASE_URL: databaseUrl }),
    LOG_LEVEL: "silent",
    ...extra,
  });
}

export function client(url: string): postgres.Sql {
  return postgres(url, { max: 2, onnotice: () => {} });
}

/**
 * Every row of every table, as JSON text, sorted: two databases with equal
 * contents give equal results whatever their physical row order.
 */
export async function contents(url: string): Promise<Record<string, string[]>> {
  const sql = client(url);
  try {
    const tables = await sql<{ name: string }[]>`
      select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and c.relkind = 'r' order by 1`;
    const result: Record<string, string[]> = {};
    for (const { name } of tables) {
      const rows = await sql.unsafe(`select to_jsonb(t)::text as row from "${name}" t order by 1`);
      result[name] = rows.map((r) => r.row as string);
    }
    return result;
  } finally {
    await sql.end();
  }
}

/** Rows that break referential integrity; all zero in a consistent database. */
export async function orphans(url: string): Promise<Record<string, number>> {
  const sql = client(url);
  try {
    const [row] = await sql`select
      (select count(*) from messages m where not exists (select 1 from users u where u.user_id = m.author_id))::int
        as messages_without_author,
      (select count(*) from followers f where not exists (select 1 from users u where u.user_id = f.who_id)
         or not exists (select 1 from users u where u.user_id = f.whom_id))::int as follows_of_missing_users`;
    return { ...row };
  } finally {
    await sql.end();
  }
}

/** Row counts of every table the manifest lists. */
export async function rowCounts(url: string, tables: string[]): Promise<Record<string, number>> {
  const sql = client(url);
  try {
    const counts: Record<string, number> = {};
    for (const table of tables) {
      const [row] = await sql.unsafe(`select count(*)::int as n from "${table}"`);
      counts[table] = row?.n as number;
    }
    return counts;
  } finally {
    await sql.end();
  }
}

/**
 * 100 users and `messages` messages by them, inserted directly: a database
 * with something to back up. Each text includes a tab, a newline and a
 * backslash-dot line, which COPY text must escape.
 */
export async function seedBackupData(url: string, messages: number): Promise<void> {
  const sql = client(url);
  await sql`insert into users (username, email, pw_hash)
            select 'seed' || i, 'seed' || i || '@x.org', 'x' from generate_series(1, 100) i`;
  await sql`insert into messages (author_id, text, pub_date)
            select 1 + i % 100, 'seeded	message ' || i || E'\n\\. ' || md5(i::text), 1700000000 + i
            from generate_series(1, ${messages}) i`;
  await sql.end();
}
