// Debian's PostgreSQL 15 server archiving its WAL with pgBackRest, for the
// point-in-time recovery tests. PostgreSQL refuses to run as root, so every
// server and pgBackRest command runs as the `postgres` system user (the
// Debian packages create it) in a directory that user owns.
import { chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { freePort } from "./postgres";

const PG_BIN = "/usr/lib/postgresql/15/bin";
export const STANZA = "minitwit";

/** Where the repository lives: S3 options for pgBackRest's `[global]` section. */
export type RepoOptions = Record<string, string>;

export interface Site {
  /** The directory holding the configuration, data directories, spool and logs. */
  readonly base: string;
  readonly configFile: string;
  /** `pgbackrest --config=… --stanza=minitwit ARGS` as the postgres user; its stdout. */
  pgbackrest(args: string[]): Promise<string>;
  /** Any command as the postgres user, with pgBackRest's configuration in PGBACKREST_CONFIG. */
  exec(argv: string[], env?: Record<string, string>): Promise<string>;
  /** A directory the postgres user may write, e.g. for the metrics textfile. */
  readonly scratchDir: string;
  /** initdb, WAL archiving through pgBackRest, started on a free port. */
  initPrimary(): Promise<Server>;
  /** A data directory under the site, e.g. for a restore. */
  dataDir(name: string): string;
  /** Starts the cluster in `dataDir` (e.g. a restored one) on a free port. */
  start(dataDir: string, settings?: string[]): Promise<Server>;
  remove(): void;
}

export interface Server {
  readonly dataDir: string;
  readonly port: number;
  url(database: string): string;
  /** A clean shutdown: the archiver pushes what is left. */
  stop(): Promise<void>;
  /** As if the machine lost power: nothing more is archived. */
  crash(): Promise<void>;
}

const asPostgres = (argv: string[]) => (userInfo().uid === 0 ? ["runuser", "-u", "postgres", "--", ...argv] : argv);

async function run(argv: string[], cwd: string): Promise<string> {
  const proc = Bun.spawn(asPostgres(argv), { cwd, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`${argv.join(" ")} exited with ${code}:\n${stderr}${stdout}`);
  return stdout;
}

export async function createSite(repo: RepoOptions, archiveTimeoutSeconds: number): Promise<Site> {
  const base = mkdtempSync("/tmp/minitwit-pitr-");
  for (const dir of ["socket", "spool", "lock", "log", "scratch"]) mkdirSync(join(base, dir));
  const configFile = join(base, "pgbackrest.conf");
  const caFile = repo["repo1-storage-ca-file"];
  if (caFile !== undefined) {
    // A copy the postgres user can read.
    copyFileSync(caFile, join(base, "ca.crt"));
    repo = { ...repo, "repo1-storage-ca-file": join(base, "ca.crt") };
  }
  writeFileSync(configFile, pgbackrestConf(base, repo));
  if (userInfo().uid === 0) {
    const { uid, gid } = postgresUser();
    const owned = [
      base,
      ...["socket", "spool", "lock", "log", "scratch", "ca.crt"].map((d) => join(base, d)),
      configFile,
    ];
    for (const path of owned.filter((p) => existsSync(p))) {
      chownSync(path, uid, gid);
    }
  }
  const pgbackrest = (args: string[]) =>
    run(["pgbackrest", `--config=${configFile}`, `--stanza=${STANZA}`, ...args], base);
  const dataDir = (name: string) => join(base, name);

  const start = async (dir: string, settings: string[] = []): Promise<Server> => {
    const port = await freePort();
    const options = ["-p", String(port), ...settings.flatMap((s) => ["-c", s])].join(" ");
    await run(
      [`${PG_BIN}/pg_ctl`, "-D", dir, "-l", join(base, "log", `${port}.log`), "-o", options, "-w", "start"],
      base,
    );
    const stop = (mode: string) => run([`${PG_BIN}/pg_ctl`, "-D", dir, "-m", mode, "-w", "stop"], base).then(() => {});
    return {
      dataDir: dir,
      port,
      url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
      stop: () => stop("fast"),
      crash: () => stop("immediate"),
    };
  };

  return {
    base,
    configFile,
    pgbackrest,
    exec: (argv, env = {}) => {
      const vars = Object.entries({ PGBACKREST_CONFIG: configFile, ...env }).map(([k, v]) => `${k}=${v}`);
      return run(["env", ...vars, ...argv], base);
    },
    scratchDir: join(base, "scratch"),
    dataDir,
    start,
    initPrimary: async () => {
      const dir = dataDir("primary");
      // 1 MB WAL segments (production: 16 MB): each switch forced by
      // archive_timeout costs the busy 2-core test machine less to push.
      await run(
        [`${PG_BIN}/initdb`, "-D", dir, "--auth=trust", "--username=postgres", "--no-sync", "--wal-segsize=1"],
        base,
      );
      const settings = archivingSettings(base, configFile, archiveTimeoutSeconds);
      await Bun.write(
        join(dir, "postgresql.conf"),
        `${await Bun.file(join(dir, "postgresql.conf")).text()}\n${settings}`,
      );
      const server = await start(dir);
      // Rewritten in place, so its owner stays the postgres user.
      await Bun.write(configFile, pgbackrestConf(base, repo, server.port));
      return server;
    },
    remove: () => (process.env.KEEP_PITR ? undefined : rmSync(base, { recursive: true, force: true })),
  };
}

function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(Bun.spawnSync(["id", flag, "postgres"]).stdout.toString().trim());
  const uid = id("-u");
  if (!Number.isInteger(uid) || uid === 0)
    throw new Error("there is no postgres system user (apt-get install postgresql-15)");
  return { uid, gid: id("-g") };
}

/**
 * What the stack's ops/postgres image sets, with the test's archive_timeout;
 * written into postgresql.conf so backups, and so restored clusters, carry it.
 */
function archivingSettings(base: string, configFile: string, archiveTimeoutSeconds: number): string {
  return [
    "listen_addresses = '127.0.0.1'",
    `unix_socket_directories = '${join(base, "socket")}'`,
    "wal_level = replica",
    "archive_mode = on",
    `archive_command = 'pgbackrest --config=${configFile} --stanza=${STANZA} archive-push %p'`,
    `archive_timeout = ${archiveTimeoutSeconds}`,
    // A test cluster: durability against power loss is not what is tested.
    "fsync = off",
    "",
  ].join("\n");
}

function pgbackrestConf(base: string, repo: RepoOptions, port?: number): string {
  const global = {
    ...repo,
    "archive-async": "y",
    "spool-path": join(base, "spool"),
    "lock-path": join(base, "lock"),
    "log-path": join(base, "log"),
    "log-level-console": "warn",
    "log-level-stderr": "info",
    "log-level-file": "detail",
    "start-fast": "y",
    "compress-type": "lz4",
    "repo1-bundle": "y",
    "process-max": "4",
  };
  const stanza = {
    "pg1-path": join(base, "primary"),
    "pg1-socket-path": join(base, "socket"),
    ...(port === undefined ? {} : { "pg1-port": String(port) }),
  };
  const section = (name: string, options: Record<string, string>) =>
    `[${name}]\n${Object.entries(options)
      .map(([k, v]) => `${k}=${v}`)
      .join("\n")}\n`;
  return `${section("global", global)}\n${section(STANZA, stanza)}`;
}

/** Until the server accepts writes: a restored cluster replays WAL read-only first. */
export async function waitUntilPrimary(url: string, timeoutMs = 30_000): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const [row] = await sql`select pg_is_in_recovery() as recovering`;
      if (row?.recovering === false) return;
      await Bun.sleep(100);
    }
    throw new Error(`${url} was still recovering after ${timeoutMs} ms`);
  } finally {
    await sql.end();
  }
}
