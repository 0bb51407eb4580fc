import { postgresUrlProblem, redactUrl, withoutPassword } from "../config/postgres-url";
import { REPLICATION_LOCK_ID } from "../database/locks";
import { UsageError } from "../errors";
import type { Sql } from "../replicate/catalog";
import { type CommandContext, defineCommand, type OptionSpecs, type Subcommand } from "./command";

const DEFAULT_TIMEOUT_MS = 300_000;

const OPTIONS = {
  from: { type: "string" },
  to: { type: "string" },
  owner: { type: "string" },
  "publisher-url": { type: "string" },
  force: { type: "boolean" },
  wait: { type: "boolean" },
  timeout: { type: "duration", unit: "s", min: 1, max: 86_400 },
  "max-lag": { type: "integer", min: 0, max: Number.MAX_SAFE_INTEGER },
  json: { type: "boolean" },
} as const satisfies OptionSpecs;

type Context = CommandContext<typeof OPTIONS>;

const ENDS_HELP = `  --from URL            the source, postgres://… (env REPLICATION_SOURCE_URL(_FILE))
  --to URL              the target, postgres://… (env REPLICATION_TARGET_URL(_FILE))`;

const stepUsage = (synopsis: string, what: string, options: string) =>
  `Usage: minitwit replicate ${synopsis}\n\n${what}\n\nOptions:\n${ENDS_HELP}${options ? `\n${options}` : ""}`;

export const replicate = defineCommand({
  name: "replicate",
  summary: "move to a new database by logical replication",
  settings: ["core", "replication"],
  usage: `Usage: minitwit replicate <start|status|cutover|abort> --from SOURCE --to TARGET [options]

Moves MiniTwit to a new PostgreSQL database without losing a write: the new
database follows the old one by logical replication until the cutover, which
makes the old one read-only for a moment, copies what replication does not
(sequences), checks every table and removes the replication. Every step can
be re-run; a re-run after a crash continues where the last one stopped.

  start     check both sides, migrate the target, create the publication, the
            slot and the subscription (the initial copy starts)
  status    each table's copy state, the lag in bytes, what to do next
  cutover   wait for the lag to fall under --max-lag, make the source refuse
            writes, wait until the target has every change, copy sequences,
            compare row counts, drop subscription, slots and publication;
            prints the write-unavailable window. The source stays read-only.
  abort     give writes back to the source and remove subscription, slots and
            publication (refused after a completed cutover unless --force)

Options:
  --from URL            the source, postgres://… (env REPLICATION_SOURCE_URL(_FILE))
  --to URL              the target, postgres://… (env REPLICATION_TARGET_URL(_FILE))
  --publisher-url URL   start: the source as the target's server reaches it
                        (default: --from)
  --force               start: empty the target's tables if they hold rows;
                        abort: give writes back even after a completed cutover
  --wait                start: return once every table is copied
  --timeout S           start --wait, cutover: bound on each wait (default 300)
  --max-lag BYTES       cutover: lag under which the source is fenced (default 1048576)
  --json                status: print JSON`,
  options: OPTIONS,
  subcommands: {
    start: step(
      "start",
      stepUsage(
        "start --from SOURCE --to TARGET [--owner ROLE] [--publisher-url URL] [--force] [--wait] [--timeout S]",
        "Checks both sides, migrates the target and gives its tables to MiniTwit's role, creates the\npublication, the slot and the subscription; the initial copy starts. Re-running continues\nwhere the last run stopped.",
        `  --owner ROLE          the role MiniTwit connects as, which must own the tables on the target
                        (default: the owner of the source's tables); it must exist on the target
  --publisher-url URL   the source as the target's server reaches it (default: --from)
  --force               empty the target's tables if they hold rows
  --wait                return once every table is copied
  --timeout S           bound on the wait (default 300; or 90s, 5m, 2h)`,
      ),
      ["owner", "publisher-url", "force", "wait", "timeout"],
      async (ctx, source, target) => {
        const { startMove } = await import("../replicate/start");
        await startMove(source, target as Sql, {
          publisherUrl:
            ctx.options["publisher-url"] === undefined ? ends(ctx).from : url(ctx, "publisher-url", null, ""),
          force: ctx.options.force === true,
          owner: ctx.options.owner?.trim() || null,
          waitMs: ctx.options.wait === true ? (ctx.options.timeout ?? DEFAULT_TIMEOUT_MS) : null,
          progress: ctx.out,
        });
      },
    ),
    status: step(
      "status",
      stepUsage(
        "status --from SOURCE --to TARGET [--json]",
        "Each table's copy state, the lag in bytes, and what to do next.",
        "  --json                print JSON",
      ),
      ["json"],
      async (ctx, source, target) => {
        const { formatStatus, moveStatus } = await import("../replicate/status");
        const status = await moveStatus(source, target as Sql);
        for (const line of ctx.options.json ? [JSON.stringify(status, null, 2)] : formatStatus(status)) ctx.out(line);
      },
    ),
    cutover: step(
      "cutover",
      stepUsage(
        "cutover --from SOURCE --to TARGET [--max-lag BYTES] [--timeout S]",
        "Waits for the lag to fall under --max-lag, makes the source refuse writes, waits until the\ntarget has every change, copies sequences, compares row counts and removes the replication.\nPrints the write-unavailable window. The source stays read-only.",
        `  --max-lag BYTES       lag under which the source is fenced (default 1048576)
  --timeout S           bound on each wait (default 300; or 90s, 5m, 2h)`,
      ),
      ["max-lag", "timeout"],
      async (ctx, source, target) => {
        const { cutover } = await import("../replicate/cutover");
        const done = await cutover(source, target as Sql, {
          maxLagBytes: ctx.options["max-lag"] ?? 1_048_576,
          timeoutMs: ctx.options.timeout ?? DEFAULT_TIMEOUT_MS,
          progress: (_step, message) => ctx.out(message),
        });
        if (done.alreadyComplete) ctx.out(`the cutover had completed at ${done.completedAt.toISOString()}`);
        ctx.out(
          `replicas whose DATABASE_URL lists the target after the source have moved to it; point the others at ` +
            `${withoutPassword(ends(ctx).to)}, as the role that owns the tables (its password in DATABASE_PASSWORD)`,
        );
        ctx.out(
          `write-unavailable window: ${done.windowMs} ms (source read-only from ${done.fencedAt.toISOString()}, ` +
            `target alone from ${done.completedAt.toISOString()})`,
        );
      },
    ),
    abort: step(
      "abort",
      stepUsage(
        "abort --from SOURCE --to TARGET [--force]",
        "Gives writes back to the source and removes subscription, slots and publication.",
        "  --force               give writes back even after a completed cutover",
      ),
      ["force"],
      async (ctx, source, target) => {
        const { abortMove } = await import("../replicate/teardown");
        if (target === null)
          ctx.out(`warning: cannot connect to the target ${redactUrl(ends(ctx).to)}; cleaning the source only`);
        await abortMove(source, target, { force: ctx.options.force === true, progress: ctx.out });
      },
    ),
  },
});

/**
 * One step: both ends connected (abort goes on without the target), the
 * operation lock held on the source for every step but status, and both
 * connections closed however the step ends.
 */
function step(
  name: string,
  usage: string,
  accepts: (keyof typeof OPTIONS)[],
  work: (ctx: Context, source: Sql, target: Sql | null) => Promise<void>,
): Subcommand<typeof OPTIONS> {
  return {
    summary: name,
    usage,
    accepts: ["from", "to", ...accepts],
    async run(ctx: Context) {
      if (ctx.args.length > 0) throw new UsageError(`unexpected argument "${ctx.args[0]}"`, "replicate");
      const { from, to } = ends(ctx);
      const { connect } = await import("../replicate/catalog");
      const source = await connect(from, "source");
      let target: Sql | null = null;
      try {
        target = await connect(to, "target").catch((err) => {
          // abort cleans the source even when the target is gone.
          if (name === "abort") return null;
          throw err;
        });
        if (name !== "status") {
          const [lock] = await source<{ ok: boolean }[]>`select pg_try_advisory_lock(${REPLICATION_LOCK_ID}) as ok`;
          if (!lock?.ok) throw new Error("another `minitwit replicate` is running against this source; wait for it");
        }
        await work(ctx, source, target);
      } finally {
        await target?.end({ timeout: 5 });
        await source.end({ timeout: 5 });
      }
    },
  };
}

function ends(ctx: Context): { from: string; to: string } {
  return {
    from: url(ctx, "from", ctx.config.replicationSourceUrl, "REPLICATION_SOURCE_URL"),
    to: url(ctx, "to", ctx.config.replicationTargetUrl, "REPLICATION_TARGET_URL"),
  };
}

function url(ctx: Context, flag: "from" | "to" | "publisher-url", fallback: string | null, variable: string): string {
  const given = ctx.options[flag];
  const value = given !== undefined ? given.trim() : fallback;
  if (value === null || value === "") {
    throw new UsageError(`--${flag} is required${variable ? ` (or set ${variable})` : ""}`, "replicate");
  }
  const problem = postgresUrlProblem(value);
  if (problem !== null) throw new UsageError(`--${flag} ${problem}`, "replicate");
  return value;
}
