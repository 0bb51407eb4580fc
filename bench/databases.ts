// The benchmarks' database chores: a database filled by `minitwit seed`, and
// the server's counters that per-request figures are computed from.
import postgres from "postgres";
import { type BenchPostgres, REPOSITORY } from "./harness";

/**
 * Creates a database and fills it with `minitwit seed` (run as a command,
 * as an operator would); the seeded users' password is "minitwit".
 */
export async function seededDatabase(pg: BenchPostgres, users: number, messages: number): Promise<string> {
  const url = await pg.createDatabase("seeded");
  const child = Bun.spawn(
    [process.execPath, "src/main.ts", "seed", "--users", String(users), "--messages", String(messages)],
    { cwd: REPOSITORY, env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: "warn" }, stdout: "pipe", stderr: "pipe" },
  );
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (code !== 0) throw new Error(`minitwit seed failed:\n${err}`);
  console.error(out.trim());
  return url;
}

/** Counters of the database server: commits and the `latest` row's writes, for per-request figures. */
export async function databaseCounters(url: string): Promise<{ commits: number; latestWrites: number }> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    // Statistics are published asynchronously; ask for a fresh snapshot.
    await sql`select pg_stat_force_next_flush()`;
    const [db] = await sql`select xact_commit from pg_stat_database where datname = current_database()`;
    const [latest] =
      await sql`select n_tup_upd + n_tup_ins as writes from pg_stat_user_tables where relname = 'latest'`;
    return { commits: Number(db?.xact_commit ?? 0), latestWrites: Number(latest?.writes ?? 0) };
  } finally {
    await sql.end();
  }
}
