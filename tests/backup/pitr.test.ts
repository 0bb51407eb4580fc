// Continuous WAL archiving with pgBackRest, as ops/postgres sets it up, and
// the two restores of the runbook ("Recovering to a point in time"): to a
// recorded time T, and to the latest archived state after the data directory
// is gone. Debian's PostgreSQL 15 archives into an encrypted pgBackRest
// repository on S3 (s3rver behind Caddy's TLS, as pgBackRest speaks S3 only
// over HTTPS); MiniTwit writes and reads through its simulator API.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { loadConfig } from "../../src/config/settings";
import { startServer } from "../../src/http/server";
import { createLogger } from "../../src/observability/log";
import { runMinitwit } from "../support/cli";
import { createSite, type Server, type Site, STANZA, waitUntilPrimary } from "../support/pgbackrest";
import "../support/s3-read-after-write";
import { startS3, TEST_BUCKET, type TestS3 } from "../support/s3";
import { apiClient } from "../support/server";
import { startTlsProxy, type TlsProxy } from "../support/tls-proxy";

// Production archives at least every 60 s; the test uses 2 s to stay fast,
// and states its bounds in multiples of this setting.
const ARCHIVE_TIMEOUT_S = 2;
// Beyond archive_timeout: the segment switch is checked by the checkpointer
// and the asynchronous push to S3 takes a moment.
const PUSH_ALLOWANCE_MS = 3_000;

let s3: TestS3;
let proxy: TlsProxy;
let site: Site;
let primary: Server;
let app: MiniTwit;
let fullBackupStarted: number;
let fullBackupFinished: number;

interface MiniTwit {
  readonly api: ReturnType<typeof apiClient>;
  readonly base: string;
  stop(): Promise<void>;
}

async function serveMiniTwit(server: Server): Promise<MiniTwit> {
  const config = loadConfig({
    DATABASE_URL: server.url("minitwit"),
    PORT: "0",
    API_PORT: "0",
    METRICS_PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "silent",
  });
  const running = await startServer(config, createLogger("silent"));
  const base = `http://127.0.0.1:${running.apiPort}`;
  return { api: apiClient(base), base, stop: () => running.stop() };
}

async function post(minitwit: MiniTwit, username: string, content: string): Promise<number> {
  const res = await minitwit.api.post(`/msgs/${username}`, { content });
  if (res.status !== 204) throw new Error(`POST /msgs/${username}: ${res.status} ${res.text}`);
  return Date.now();
}

async function register(minitwit: MiniTwit, username: string) {
  const res = await minitwit.api.post("/register", { username, email: `${username}@example.org`, pwd: "secret" });
  expect({ username, status: res.status }).toEqual({ username, status: 204 });
}

async function contents(minitwit: MiniTwit): Promise<Set<string>> {
  const res = await minitwit.api.get("/msgs?no=100000");
  expect(res.status).toBe(200);
  return new Set((res.json as { content: string }[]).map((m) => m.content));
}

async function ready(minitwit: MiniTwit) {
  expect((await fetch(`${minitwit.base}/readyz`)).status).toBe(200);
}

beforeAll(async () => {
  s3 = await startS3();
  proxy = await startTlsProxy(s3.endpoint);
  site = await createSite(
    {
      "repo1-type": "s3",
      "repo1-path": "/pgbackrest",
      "repo1-s3-bucket": TEST_BUCKET,
      "repo1-s3-endpoint": proxy.host,
      "repo1-storage-port": String(proxy.port),
      "repo1-storage-ca-file": proxy.caFile,
      "repo1-s3-region": "us-east-1",
      "repo1-s3-key": "S3RVER",
      "repo1-s3-key-secret": "S3RVER",
      "repo1-s3-uri-style": "path",
      "repo1-cipher-type": "aes-256-cbc",
      "repo1-cipher-pass": "a test passphrase",
      "repo1-retention-full": "2",
    },
    ARCHIVE_TIMEOUT_S,
  );
  primary = await site.initPrimary();
  await site.pgbackrest(["stanza-create"]);
  fullBackupStarted = Date.now();
  await site.pgbackrest(["backup", "--type=full"]);
  fullBackupFinished = Date.now();
  const admin = postgres(primary.url("postgres"), { max: 1, onnotice: () => {} });
  await admin`create database minitwit`;
  await admin.end();
  app = await serveMiniTwit(primary);
}, 60_000);

afterAll(async () => {
  await app?.stop().catch(() => {});
  await primary?.stop().catch(() => {});
  await proxy?.stop();
  await s3?.stop();
  site?.remove();
}, 30_000);

test("the backup job's metrics say when the newest full backup finished (ops/postgres/pgbackrest-metrics.sh)", async () => {
  const script = join(import.meta.dir, "..", "..", "ops", "postgres", "pgbackrest-metrics.sh");
  await site.exec(["bash", script], { PGBACKREST_STANZA: STANZA, METRICS_DIR: site.scratchDir });
  const text = await Bun.file(join(site.scratchDir, "pgbackrest.prom")).text();
  const finished = Number(
    /^pgbackrest_backup_last_completion_timestamp_seconds\{stanza="minitwit",type="full"\} (\d+)$/m.exec(text)?.[1],
  );
  expect(finished).toBeGreaterThanOrEqual(Math.floor(fullBackupStarted / 1000));
  expect(finished).toBeLessThanOrEqual(Date.now() / 1000);
  expect(text).toContain('pgbackrest_stanza_status_code{stanza="minitwit"} 0');
});

describe("pgBackRest restores MiniTwit's database", () => {
  test("to a time T: every write acknowledged before T is there, none sent after T + 1 s", async () => {
    await register(app, "alice");
    const before = Array.from({ length: 10 }, (_, i) => `before T ${i}`);
    for (const content of before) await post(app, "alice", content);
    // T is written to the millisecond, commit times to the microsecond: T
    // taken in the millisecond of the last commit would fall before it.
    await Bun.sleep(2);
    // A restore to T needs a backup that stopped before T, and pgBackRest
    // records the stop in whole seconds: on a fast run T came in the second
    // the full backup stopped, and the restore found no backup to start from.
    await Bun.sleep(Math.max(0, fullBackupFinished + 2_000 - Date.now()));
    const target = new Date();
    await Bun.sleep(1_000);
    await register(app, "bob");
    const after = Array.from({ length: 10 }, (_, i) => `after T ${i}`);
    for (const content of after) await post(app, "bob", content);
    // Forces a WAL switch and waits until the segment is in the repository.
    await site.pgbackrest(["check"]);

    const dir = site.dataDir("rewound");
    await site.pgbackrest([
      "restore",
      `--pg1-path=${dir}`,
      // Its own spool: a restore clears the spool, where the running primary's
      // archive-push waits for the asynchronous push to report.
      `--spool-path=${dir}-spool`,
      "--type=time",
      `--target=${target.toISOString().replace("T", " ").replace("Z", "+00")}`,
      "--target-action=promote",
      // A copy beside production, not its successor: it must not archive into the stanza.
      "--archive-mode=off",
    ]);
    const rewound = await site.start(dir);
    try {
      await waitUntilPrimary(rewound.url("postgres"));
      const restoredApp = await serveMiniTwit(rewound);
      try {
        await ready(restoredApp);
        const migrate = await runMinitwit(["migrate"], { DATABASE_URL: rewound.url("minitwit") });
        expect(migrate.stdout).toContain("schema is current");
        const seen = await contents(restoredApp);
        expect(before.filter((c) => !seen.has(c))).toEqual([]);
        expect(after.filter((c) => seen.has(c))).toEqual([]);
        // bob signed up after T, so the name is free again, and the copy takes writes.
        await register(restoredApp, "bob");
      } finally {
        await restoredApp.stop();
      }
    } finally {
      await rewound.stop();
    }
  }, 60_000);

  test(`after the data directory is lost: at most the last archive_timeout (${ARCHIVE_TIMEOUT_S} s) of writes is missing`, async () => {
    const acknowledged: { content: string; at: number }[] = [];
    let crashing = false;
    const writer = (async () => {
      for (let i = 0; !crashing; i++) {
        const content = `live ${i}`;
        try {
          acknowledged.push({ content, at: await post(app, "alice", content) });
          // About the simulator's pace, leaving this process time for s3rver.
          await Bun.sleep(20);
        } catch (error) {
          if (!crashing) throw error;
        }
      }
    })();
    await Bun.sleep(3 * ARCHIVE_TIMEOUT_S * 1000 + 700);
    crashing = true;
    await primary.crash();
    // After the server is gone: no write can be acknowledged later than this.
    const crashedAt = Date.now();
    await writer;
    await app.stop();
    rmSync(primary.dataDir, { recursive: true, force: true });

    const started = performance.now();
    await site.pgbackrest(["restore"]);
    primary = await site.start(primary.dataDir);
    await waitUntilPrimary(primary.url("postgres"));
    app = await serveMiniTwit(primary);
    await ready(app);
    const rtoSeconds = (performance.now() - started) / 1000;

    const seen = await contents(app);
    const missing = acknowledged.filter((w) => !seen.has(w.content));
    const lostWindowMs = missing.length === 0 ? 0 : crashedAt - Math.min(...missing.map((w) => w.at));
    console.info(
      `latest-state restore: ${acknowledged.length} writes acknowledged, ${missing.length} missing ` +
        `(acknowledged in the last ${lostWindowMs} ms before the crash); restored and serving in ${rtoSeconds.toFixed(1)} s`,
    );
    expect(acknowledged.length).toBeGreaterThan(20);
    expect(lostWindowMs).toBeLessThanOrEqual(ARCHIVE_TIMEOUT_S * 1000 + PUSH_ALLOWANCE_MS);
    // The writes of the first test, from before and after its T, are all back.
    expect(seen.has("before T 0") && seen.has("after T 9")).toBe(true);
  }, 60_000);
});
