import { redactUrl } from "../config";
import { UsageError } from "../errors";
import { connect, type Sql } from "../replicate/catalog";
import { cutover } from "../replicate/cutover";
import { startMove } from "../replicate/start";
import { formatStatus, moveStatus } from "../replicate/status";
import { abortMove } from "../replicate/teardown";
import type { Command, CommandContext } from "./command";

const SUBCOMMANDS = ["start", "status", "cutover", "abort"] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

// Which flags each subcommand accepts besides --from and --to.
const ALLOWED: Record<Subcommand, readonly string[]> = {
  start: ["publisher-url", "force", "wait", "timeout"],
  status: ["json"],
  cutover: ["max-lag", "timeout"],
  abort: ["force"],
};

// Held on the source for the length of one start, cutover or abort, so two
// operators cannot interleave steps; released when the connection ends.
const OPERATION_LOCK = 7_305_412_002;

export const replicate: Command = {
  name: "replicate",
  summary: "move to a new database by logical replication",
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
  options: {
    from: { type: "string" },
    to: { type: "string" },
    "publisher-url": { type: "string" },
    force: { type: "boolean" },
    wait: { type: "boolean" },
    timeout: { type: "string" },
    "max-lag": { type: "string" },
    json: { type: "boolean" },
  },
  positionals: true,
  async run(ctx) {
    const [sub, ...extra] = ctx.args;
    if (sub === undefined) throw new UsageError("which step? start, status, cutover or abort", "replicate");
    if (!(SUBCOMMANDS as readonly string[]).includes(sub)) {
      throw new UsageError(`unknown step "${sub}"; expected start, status, cutover or abort`, "replicate");
    }
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`, "replicate");
    const step = sub as Subcommand;
    for (const [name, value] of Object.entries(ctx.flags)) {
      if (value === undefined || ["from", "to", "help"].includes(name)) continue;
      if (!ALLOWED[step].includes(name)) throw new UsageError(`--${name} does not apply to ${step}`, "replicate");
    }
    const from = url(ctx, "from", ctx.config.replicationSourceUrl, "REPLICATION_SOURCE_URL");
    const to = url(ctx, "to", ctx.config.replicationTargetUrl, "REPLICATION_TARGET_URL");
    const publisherUrl = ctx.flags["publisher-url"] === undefined ? from : url(ctx, "publisher-url", null, "");
    const timeoutMs = number(ctx.flags.timeout, "--timeout", 300, 1, 86_400) * 1000;
    const maxLagBytes = number(ctx.flags["max-lag"], "--max-lag", 1_048_576, 0, Number.MAX_SAFE_INTEGER);

    const source = await connect(from, "source");
    let target: Sql | null = null;
    try {
      target = await connect(to, "target").catch((err) => {
        // abort cleans the source even when the target is gone.
        if (step === "abort") return null;
        throw err;
      });
      if (step === "status") {
        const status = await moveStatus(source, target as Sql);
        for (const line of ctx.flags.json ? [JSON.stringify(status, null, 2)] : formatStatus(status)) ctx.out(line);
        return;
      }
      const [lock] = await source<{ ok: boolean }[]>`select pg_try_advisory_lock(${OPERATION_LOCK}) as ok`;
      if (!lock?.ok) throw new Error("another `minitwit replicate` is running against this source; wait for it");
      if (step === "start") {
        await startMove(source, target as Sql, {
          publisherUrl,
          force: ctx.flags.force === true,
          waitMs: ctx.flags.wait === true ? timeoutMs : null,
          progress: ctx.out,
        });
      } else if (step === "cutover") {
        const done = await cutover(source, target as Sql, {
          maxLagBytes,
          timeoutMs,
          progress: (_step, message) => ctx.out(message),
        });
        if (done.alreadyComplete) ctx.out(`the cutover had completed at ${done.completedAt.toISOString()}`);
        ctx.out(
          `write-unavailable window: ${done.windowMs} ms (source read-only from ${done.fencedAt.toISOString()}, ` +
            `target alone from ${done.completedAt.toISOString()}); point MiniTwit at ${redactUrl(to)}`,
        );
      } else {
        if (target === null)
          ctx.out(`warning: cannot connect to the target ${redactUrl(to)}; cleaning the source only`);
        await abortMove(source, target, { force: ctx.flags.force === true, progress: ctx.out });
      }
    } finally {
      await target?.end({ timeout: 5 });
      await source.end({ timeout: 5 });
    }
  },
};

function url(ctx: CommandContext, flag: string, fallback: string | null, variable: string): string {
  const given = ctx.flags[flag];
  const value = typeof given === "string" ? given.trim() : fallback;
  if (value === null || value === "") {
    throw new UsageError(`--${flag} is required${variable ? ` (or set ${variable})` : ""}`, "replicate");
  }
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new UsageError(`--${flag} must be a postgres:// URL, got "${redactUrl(value)}"`, "replicate");
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new UsageError(`--${flag} must be a postgres:// URL, got "${redactUrl(value)}"`, "replicate");
  }
  return value;
}

function number(raw: string | boolean | undefined, name: string, fallback: number, min: number, max: number): number {
  if (raw === undefined || typeof raw === "boolean") return fallback;
  const n = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`, "replicate");
  }
  return n;
}
