// `minitwit replicate` survives being run twice, interrupted and undone:
// after each path both databases are usable (writes succeed where they
// should, are refused where they should) and no slot or subscription is left.
// Sources live on the shared cluster, targets on a second one.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import postgres from "postgres";
import { migrate } from "../../src/cli/migrate";
import { replicate } from "../../src/cli/replicate";
import { loadConfig } from "../../src/config/settings";
import { connect, type Sql } from "../../src/replicate/catalog";
import { type CutoverStep, cutover } from "../../src/replicate/cutover";
import { type Cluster, freshDatabase, startCluster } from "../support/postgres";

const root = join(import.meta.dir, "..", "..");
let targets: Cluster;
beforeAll(async () => {
  targets = await startCluster();
}, 60_000);

const open: postgres.Sql[] = [];
afterAll(async () => {
  await Promise.all(open.map((sql) => sql.end({ timeout: 1 })));
});

function client(url: string): postgres.Sql {
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  open.push(sql);
  return sql;
}

/** A migrated source with a few users, follows and messages, and an empty target database. */
async function pair(): Promise<{ from: string; to: string; src: postgres.Sql; dst: postgres.Sql }> {
  const from = await freshDatabase();
  const name = `t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  await client(targets.url("postgres")).unsafe(`create database ${name}`);
  const to = targets.url(name);
  await run(["migrate"], { "database-url": from });
  const src = client(from);
  await src`insert into users (username, email, pw_hash) select 'u' || i, 'u' || i || '@x', 'h' from generate_series(1, 5) i`;
  await src`insert into followers values (1, 2), (2, 3)`;
  await src`insert into messages (author_id, text, pub_date) select 1 + i % 5, 'm' || i, i from generate_series(1, 50) i`;
  return { from, to, src, dst: client(to) };
}

/** Runs `minitwit migrate` or `replicate <step>` in-process, as `main` would; returns its output lines. */
async function run(args: string[], flags: Record<string, string | boolean>): Promise<string[]> {
  const lines: string[] = [];
  const command = args[0] === "migrate" ? migrate : replicate;
  await command.run({
    config: loadConfig({ LOG_LEVEL: "silent" }, flags),
    args: args[0] === "migrate" ? [] : args,
    flags,
    out: (line) => lines.push(line),
  });
  return lines;
}

async function leftovers(src: postgres.Sql, dst: postgres.Sql) {
  const [slots] = await src`select count(*)::int as n from pg_replication_slots where database = current_database()`;
  const [publications] = await src`select count(*)::int as n from pg_publication`;
  const [subscriptions] = await dst`select count(*)::int as n from pg_subscription s
                                    join pg_database d on d.oid = s.subdbid where d.datname = current_database()`;
  return { slots: slots?.n, publications: publications?.n, subscriptions: subscriptions?.n };
}

/** A write that needs the identity: fails on a fenced source, or on a target whose sequence was not synced. */
async function postMessage(sql: postgres.Sql, text: string): Promise<void> {
  await sql`insert into messages (author_id, text, pub_date) values (1, ${text}, 0)`;
}

async function count(sql: postgres.Sql, table: string): Promise<number> {
  const [row] = await sql`select count(*)::int as n from ${sql(table)}`;
  return row?.n;
}

async function withEnds<T>(from: string, to: string, work: (source: Sql, target: Sql) => Promise<T>): Promise<T> {
  const [source, target] = [await connect(from, "source"), await connect(to, "target")];
  try {
    return await work(source, target);
  } finally {
    await Promise.all([source.end(), target.end()]);
  }
}

test("start run twice creates one publication, one slot and one subscription, and replicates", async () => {
  const { from, to, src, dst } = await pair();
  await run(["start"], { from, to, wait: true, timeout: "60" });
  const second = await run(["start"], { from, to, wait: true, timeout: "60" });
  expect(second).toContain("publication minitwit_move exists on the source");
  expect(second).toContain("subscription minitwit_move exists on the target");
  expect(await leftovers(src, dst)).toEqual({ slots: 1, publications: 1, subscriptions: 1 });
  expect(await count(dst, "messages")).toBe(50);

  await postMessage(src, "written after start");
  const status = await run(["status"], { from, to, json: true });
  expect(JSON.parse(status.join("\n"))).toMatchObject({ phase: "replicating", slot: { exists: true, active: true } });
  await run(["cutover"], { from, to, timeout: "60" });
  expect(await count(dst, "messages")).toBe(51);
  await postMessage(dst, "first write on the target");
  await expect(postMessage(src, "late write on the source")).rejects.toThrow(/no longer accepts writes/);
  expect(await leftovers(src, dst)).toEqual({ slots: 0, publications: 0, subscriptions: 0 });
}, 120_000);

test("a start that fails at the subscription (publisher unreachable from the target) completes when re-run", async () => {
  const { from, to, src, dst } = await pair();
  const unreachable = from.replace(/:(\d+)\//, ":1/");
  await expect(run(["start"], { from, to, "publisher-url": unreachable })).rejects.toThrow(/could not connect/);
  // Publication and slot exist now, the subscription does not; the source keeps working.
  expect(await leftovers(src, dst)).toEqual({ slots: 1, publications: 1, subscriptions: 0 });
  await postMessage(src, "written between the attempts");
  await run(["start"], { from, to, wait: true, timeout: "60" });
  expect(await leftovers(src, dst)).toEqual({ slots: 1, publications: 1, subscriptions: 1 });
  await run(["cutover"], { from, to, timeout: "60" });
  expect(await count(dst, "messages")).toBe(51);
  expect(await leftovers(src, dst)).toEqual({ slots: 0, publications: 0, subscriptions: 0 });
}, 120_000);

test("abort after start gives the source back untouched and cleans both sides; a new start then works", async () => {
  const { from, to, src, dst } = await pair();
  await run(["start"], { from, to, wait: true, timeout: "60" });
  const aborted = await run(["abort"], { from, to });
  expect(aborted).toContain("dropped the subscription on the target");
  expect(await leftovers(src, dst)).toEqual({ slots: 0, publications: 0, subscriptions: 0 });
  await postMessage(src, "the source still takes writes");
  expect(await run(["abort"], { from, to })).toContain("no subscription on the target");

  // The target holds the aborted copy: start refuses it, --force empties it.
  await expect(run(["start"], { from, to })).rejects.toThrow(/preflight failed/);
  await run(["start"], { from, to, force: true, wait: true, timeout: "60" });
  await run(["cutover"], { from, to, timeout: "60" });
  expect(await count(dst, "messages")).toBe(51);
  expect(await leftovers(src, dst)).toEqual({ slots: 0, publications: 0, subscriptions: 0 });
}, 120_000);

test.each<[CutoverStep, "writable" | "read-only"]>([
  ["read-only", "writable"],
  ["verified", "writable"],
  ["unsubscribed", "read-only"],
  ["slots-dropped", "read-only"],
])(
  "a cutover that fails after step %s leaves the source %s, and a re-run completes",
  async (step, after) => {
    const { from, to, src, dst } = await pair();
    await run(["start"], { from, to, wait: true, timeout: "60" });
    const failing = withEnds(from, to, (source, target) =>
      cutover(source, target, {
        maxLagBytes: 1 << 20,
        timeoutMs: 60_000,
        progress: (reached) => {
          if (reached === step) throw new Error(`injected failure after ${step}`);
        },
      }),
    );
    await expect(failing).rejects.toThrow(`injected failure after ${step}`);
    if (after === "writable") {
      await postMessage(src, "accepted between the attempts");
    } else {
      await expect(postMessage(src, "refused between the attempts")).rejects.toThrow(/no longer accepts writes/);
    }
    const status = JSON.parse((await run(["status"], { from, to, json: true })).join("\n"));
    expect(status.phase).toBe(after === "writable" ? "replicating" : "cutting over");

    const finished = await run(["cutover"], { from, to, timeout: "60" });
    expect(finished.at(-1)).toMatch(/^write-unavailable window: \d+ ms/);
    expect(await count(dst, "messages")).toBe(await count(src, "messages"));
    await postMessage(dst, "first write on the target");
    await expect(postMessage(src, "late write on the source")).rejects.toThrow(/no longer accepts writes/);
    expect(await leftovers(src, dst)).toEqual({ slots: 0, publications: 0, subscriptions: 0 });
  },
  120_000,
);

test.each(["cutover", "abort"] as const)(
  "a cutover killed while the source is read-only is finished by %s",
  async (finish) => {
    const { from, to, src, dst } = await pair();
    await run(["start"], { from, to, wait: true, timeout: "60" });
    // Hold the subscriber back (its apply worker waits for this lock), so the
    // cutover is still waiting for the last change when it is killed.
    const blocker = postgres(to, { max: 1, onnotice: () => {} });
    const released = Promise.withResolvers<void>();
    const holding = Promise.withResolvers<void>();
    const blocking = blocker.begin(async (tx) => {
      await tx`lock table messages in access exclusive mode`;
      holding.resolve();
      await released.promise;
    });
    await holding.promise;
    await postMessage(src, "stuck behind the lock");

    const child = Bun.spawn(
      ["bun", join(root, "src", "main.ts"), "replicate", "cutover", "--from", from, "--to", to, "--timeout", "60"],
      { stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LOG_LEVEL: "silent" } },
    );
    let seen = "";
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) {
      seen += decoder.decode(chunk);
      if (seen.includes("source refuses writes")) break;
    }
    child.kill("SIGKILL");
    await child.exited;
    expect(seen).toContain("source refuses writes");
    expect(seen).not.toContain("cutover complete");
    released.resolve();
    await blocking;
    await blocker.end();
    await expect(postMessage(src, "refused while fenced")).rejects.toThrow(/no longer accepts writes/);

    if (finish === "cutover") {
      expect(await run(["cutover"], { from, to, timeout: "60" })).toContainEqual(
        expect.stringMatching(/^write-unavailable window: \d+ ms/),
      );
      expect(await count(dst, "messages")).toBe(await count(src, "messages"));
      await postMessage(dst, "first write on the target");
    } else {
      await run(["abort"], { from, to });
      await postMessage(src, "the source takes writes again");
    }
    expect(await leftovers(src, dst)).toEqual({ slots: 0, publications: 0, subscriptions: 0 });
  },
  120_000,
);

test("source and target in one cluster: start and cutover do not wait on themselves", async () => {
  const from = await freshDatabase();
  const to = await freshDatabase();
  await run(["migrate"], { "database-url": from });
  const [src, dst] = [client(from), client(to)];
  await src`insert into users (username, email, pw_hash) values ('solo', 's@x', 'h')`;
  await run(["start"], { from, to, wait: true, timeout: "60" });
  await run(["cutover"], { from, to, timeout: "60" });
  expect(await count(dst, "users")).toBe(1);
  await dst`insert into users (username, email, pw_hash) values ('second', 's2@x', 'h')`;
  expect(await leftovers(src, dst)).toEqual({ slots: 0, publications: 0, subscriptions: 0 });
}, 120_000);
