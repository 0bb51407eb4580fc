// The checks `replicate start` runs before it changes anything. Every check
// runs and is reported, so one attempt shows everything to fix; each failure
// says what to change. Capacity checks are skipped when the subscription
// already exists (a re-run of `start` needs no new slot).
import { embeddedMigrations } from "../../db/migrations";
import { rowCounts, runOn } from "../database/admin";
import {
  fenceOnSource,
  replicatedTables,
  type Sql,
  slotOnSource,
  subscriptionOnTarget,
  systemIdentifier,
} from "./catalog";

export interface Check {
  readonly ok: boolean;
  /** What holds, or what is wrong and how to fix it. */
  readonly detail: string;
}

// One slot and one WAL sender for the subscription, one more of each for the
// table copies (tablesync workers take their own, one table at a time or more).
const SLOTS_NEEDED = 2;
const SENDERS_NEEDED = 2;

export async function preflight(source: Sql, target: Sql, slot: string, force: boolean): Promise<Check[]> {
  const subscription = await subscriptionOnTarget(target);
  const role = await sourceRole(source);
  const fence = await fenceOnSource(source);
  return [
    ...(await sourceSettingChecks(source, role, slot, subscription !== null)),
    ...(await sourceTableChecks(source, role)),
    verdict(
      fence === null,
      "source: accepts writes",
      "source: a cutover has already made it read-only; finish it with `minitwit replicate cutover` " +
        "or undo it with `minitwit replicate abort`",
    ),
    ...(await targetChecks(target)),
    await distinctDatabases(source, target),
    ...(subscription === null
      ? [await targetEmpty(target, force).catch((err) => failed("target: cannot count its rows", err))]
      : []),
  ];
}

function verdict(ok: boolean, good: string, bad: string): Check {
  return { ok, detail: ok ? good : bad };
}

interface SourceRole {
  user: string;
  db: string;
  walLevel: string;
  superuser: boolean;
  replication: boolean;
  createOnDb: boolean;
  createOnSchema: boolean;
  schema: string;
  maxSlots: number;
  usedSlots: number;
  maxSenders: number;
  usedSenders: number;
}

async function sourceRole(source: Sql): Promise<SourceRole> {
  const [role] = await source<SourceRole[]>`
    select current_user as user, current_database() as db, current_setting('wal_level') as "walLevel",
           r.rolsuper as superuser, r.rolreplication as replication,
           has_database_privilege(current_database(), 'CREATE') as "createOnDb",
           has_schema_privilege(current_schema(), 'CREATE') as "createOnSchema", current_schema() as schema,
           current_setting('max_replication_slots')::int as "maxSlots",
           (select count(*) from pg_replication_slots)::int as "usedSlots",
           current_setting('max_wal_senders')::int as "maxSenders",
           (select count(*) from pg_stat_replication)::int as "usedSenders"
    from pg_roles r where r.rolname = current_user`;
  if (role === undefined) throw new Error("cannot read the current role on the source");
  return role;
}

/** wal_level, free slots and WAL senders (unless the subscription holds them already), the role's rights. */
async function sourceSettingChecks(source: Sql, src: SourceRole, slot: string, subscribed: boolean): Promise<Check[]> {
  const checks = [
    verdict(
      src.walLevel === "logical",
      "source: wal_level is logical",
      `source: wal_level is ${src.walLevel}; set wal_level = logical in postgresql.conf and restart the source`,
    ),
  ];
  if (subscribed) {
    checks.push({ ok: true, detail: "source: replication slots and WAL senders already in use by the subscription" });
  } else {
    const freeSlots = src.maxSlots - src.usedSlots + ((await slotOnSource(source, slot)) !== null ? 1 : 0);
    const freeSenders = src.maxSenders - src.usedSenders;
    checks.push(
      verdict(
        freeSlots >= SLOTS_NEEDED,
        `source: ${freeSlots} replication slots free`,
        `source: ${freeSlots} of max_replication_slots = ${src.maxSlots} free, ${SLOTS_NEEDED} needed; ` +
          "drop unused slots (see pg_replication_slots) or raise max_replication_slots and restart",
      ),
      verdict(
        freeSenders >= SENDERS_NEEDED,
        `source: ${freeSenders} WAL senders free`,
        `source: ${freeSenders} of max_wal_senders = ${src.maxSenders} free, ${SENDERS_NEEDED} needed; ` +
          "raise max_wal_senders and restart the source",
      ),
    );
  }
  return [
    ...checks,
    verdict(
      src.superuser || src.replication,
      `source: role ${src.user} may replicate`,
      `source: role ${src.user} lacks the REPLICATION attribute; run ALTER ROLE ${src.user} REPLICATION`,
    ),
    verdict(
      src.superuser || src.createOnDb,
      `source: role ${src.user} may create publications`,
      `source: role ${src.user} may not create publications; run GRANT CREATE ON DATABASE ${src.db} TO ${src.user}`,
    ),
    verdict(
      src.superuser || src.createOnSchema,
      `source: role ${src.user} may create the read-only trigger function used at cutover`,
      `source: role ${src.user} may not create functions in schema ${src.schema} (needed to make the source ` +
        `read-only at cutover); run GRANT CREATE ON SCHEMA ${src.schema} TO ${src.user}`,
    ),
  ];
}

/** Every table present, owned by the role, with a replica identity; the schema version readable. */
async function sourceTableChecks(source: Sql, src: SourceRole): Promise<Check[]> {
  // A published table without a replica identity makes every UPDATE and
  // DELETE on it fail on the source: the application would break at once.
  const tables = await source<
    { name: string; present: boolean; owned: boolean; owner: string | null; identity: boolean }[]
  >`
    select t.name, c.oid is not null as present, coalesce(pg_has_role(c.relowner, 'USAGE'), false) as owned,
           pg_get_userbyid(c.relowner) as owner,
           c.relreplident in ('f', 'i') or (c.relreplident = 'd' and exists (
             select from pg_index i where i.indrelid = c.oid and i.indisprimary)) as identity
    from unnest(${replicatedTables()}::text[]) as t(name)
    left join pg_class c on c.relname = t.name and c.relkind = 'r' and c.relnamespace = current_schema()::regnamespace`;
  const missing = tables.filter((t) => !t.present).map((t) => t.name);
  const checks = [
    verdict(
      missing.length === 0,
      "source: every MiniTwit table is present",
      `source: table ${missing.join(", ")} missing; the source is not a migrated MiniTwit database`,
    ),
  ];
  const foreign = tables.filter((t) => t.present && !t.owned && !src.superuser);
  if (foreign.length > 0) {
    const owners = [...new Set(foreign.map((t) => t.owner))].join(", ");
    checks.push({
      ok: false,
      detail:
        `source: role ${src.user} does not own ${foreign.map((t) => t.name).join(", ")} (owned by ${owners}); ` +
        "publications need the tables' owner: use that role",
    });
  }
  for (const table of tables.filter((t) => t.present && !t.identity)) {
    checks.push({
      ok: false,
      detail: `source: table ${table.name} has no primary key or replica identity; updates to it would fail once published`,
    });
  }
  if (missing.length === 0) {
    checks.push(await schemaVersion(source).catch((err) => failed(`source: cannot read schema_migrations`, err)));
  }
  return checks;
}

/** The target's role may subscribe, and enough logical replication workers are configured. */
async function targetChecks(target: Sql): Promise<Check[]> {
  const [tgt] = await target<{ user: string; superuser: boolean; mayCreate: boolean; workers: number }[]>`
    select current_user as user, r.rolsuper as superuser,
           (r.rolsuper or (exists (select from pg_roles where rolname = 'pg_create_subscription')
                           and pg_has_role('pg_create_subscription', 'USAGE')
                           and has_database_privilege(current_database(), 'CREATE'))) as "mayCreate",
           current_setting('max_logical_replication_workers')::int as workers
    from pg_roles r where r.rolname = current_user`;
  if (tgt === undefined) throw new Error("cannot read the current role on the target");
  return [
    verdict(
      tgt.mayCreate,
      `target: role ${tgt.user} may create subscriptions`,
      `target: role ${tgt.user} may not create subscriptions; use a superuser, or GRANT pg_create_subscription ` +
        "and CREATE on the database to it (PostgreSQL 16+)",
    ),
    verdict(
      tgt.workers >= 2,
      `target: max_logical_replication_workers is ${tgt.workers}`,
      `target: max_logical_replication_workers is ${tgt.workers}, 2 needed; raise it and restart the target`,
    ),
  ];
}

function failed(what: string, err: unknown): Check {
  return { ok: false, detail: `${what}: ${(err as Error).message}` };
}

async function schemaVersion(source: Sql): Promise<Check> {
  const expected = embeddedMigrations().map((m) => m.tag);
  const [present] = await source<{ ok: boolean }[]>`select to_regclass('schema_migrations') is not null as ok`;
  const applied = present?.ok
    ? (await source<{ tag: string }[]>`select tag from schema_migrations order by tag`).map((r) => r.tag)
    : [];
  const unknown = applied.filter((tag) => !expected.includes(tag));
  const pending = expected.filter((tag) => !applied.includes(tag));
  if (unknown.length > 0) {
    return {
      ok: false,
      detail: `source: schema has migrations this minitwit does not know (${unknown.join(", ")}); use the newer minitwit`,
    };
  }
  if (pending.length > 0) {
    return {
      ok: false,
      detail: `source: schema lacks ${pending.join(", ")}; run \`minitwit migrate\` against the source first`,
    };
  }
  return { ok: true, detail: `source: schema is at ${expected.at(-1)}, as this minitwit expects` };
}

async function distinctDatabases(source: Sql, target: Sql): Promise<Check> {
  const [s] = await source<{ db: string }[]>`select current_database() as db`;
  const [t] = await target<{ db: string }[]>`select current_database() as db`;
  const [sourceId, targetId] = [await systemIdentifier(source), await systemIdentifier(target)];
  const same = sourceId !== null && sourceId === targetId && s?.db === t?.db;
  return same
    ? { ok: false, detail: "target: is the source database itself; --to must name another database" }
    : { ok: true, detail: "target: is another database than the source" };
}

async function targetEmpty(target: Sql, force: boolean): Promise<Check> {
  const counts = await rowCounts(runOn(target), replicatedTables());
  const held = [...counts].filter(([, rows]) => rows > 0).map(([table, rows]) => `${table} ${rows}`);
  if (held.length === 0) return { ok: true, detail: "target: holds no rows" };
  if (force) return { ok: true, detail: `target: holds rows (${held.join(", ")}); --force empties it first` };
  return {
    ok: false,
    detail: `target: already holds rows (${held.join(", ")}); point --to at an empty database, or pass --force to empty these tables first`,
  };
}
