// The `latest` value, measured without HTTP in the way: every simulated
// request stores its action id and posts a message, as a tweet does, either
// by awaiting an UPDATE of the single `latest` row before answering (the
// obvious design) or through LatestActionTracker (src/http/latest-action.ts: record and answer
// at once, one UPDATE in flight, values that arrive meanwhile collapse into
// the next). Run with 16 concurrent requests and with one at a time (the
// simulator's pace).
import { loadConfig } from "../src/config/settings";
import { applyMigrations } from "../src/database/migrate";
import { openDatabase } from "../src/database/open";
import { LatestActionTracker } from "../src/http/latest-action";
import { createLogger } from "../src/observability/log";
import { writeLatestAction } from "../src/store/latest-action";
import { postMessageByUsername } from "../src/store/messages";
import { createUser } from "../src/store/users";
import { databaseCounters } from "./databases";
import { startBenchPostgres } from "./harness";
import { latencyTable, summarize } from "./stats";

export interface LatestOptions {
  readonly durable: boolean;
  readonly poolMax?: number;
  /** Requests per run. */
  readonly requests: number;
}

type Design = "await an UPDATE per request" | "LatestActionTracker (coalesced)";

export async function runLatest(options: LatestOptions): Promise<void> {
  const pg = await startBenchPostgres(options.durable);
  try {
    const rows: Record<string, ReturnType<typeof summarize>> = {};
    const notes: string[] = [];
    for (const concurrency of [16, 1]) {
      for (const design of ["await an UPDATE per request", "LatestActionTracker (coalesced)"] as Design[]) {
        const url = await pg.createDatabase(
          `latest_${concurrency}_${design.startsWith("await") ? "await" : "tracker"}`,
        );
        const log = createLogger("silent");
        const database = await openDatabase(
          loadConfig({ DATABASE_URL: url, ...(options.poolMax ? { DATABASE_POOL_MAX: String(options.poolMax) } : {}) }),
          log,
        );
        try {
          await applyMigrations(database.db);
          await createUser(database.db, { username: "author", email: "author@example.com", pwHash: "-" });
          const tracker = new LatestActionTracker(database.db, log);
          const before = await databaseCounters(url);
          const times: number[] = [];
          let next = 0;
          const worker = async () => {
            while (next < options.requests) {
              const id = next++;
              const started = performance.now();
              if (design === "LatestActionTracker (coalesced)") tracker.record(id);
              else await writeLatestAction(database.db, id);
              await postMessageByUsername(database.db, "author", `message ${id}`, 1_700_000_000);
              times.push(performance.now() - started);
            }
          };
          const started = performance.now();
          await Promise.all(Array.from({ length: concurrency }, worker));
          await tracker.flush();
          const seconds = (performance.now() - started) / 1000;
          await database.close();
          const after = await databaseCounters(url);
          const label = `${design}, ${concurrency} at a time`;
          rows[label] = summarize(times);
          notes.push(
            `${label}: ${Math.round(options.requests / seconds)} requests/s, ` +
              `${after.latestWrites - before.latestWrites} UPDATEs of the latest row for ${options.requests} requests`,
          );
        } finally {
          await database.close().catch(() => {});
        }
      }
    }
    console.log(latencyTable(rows));
    for (const note of notes) console.log(note);
  } finally {
    await pg.stop();
  }
}
