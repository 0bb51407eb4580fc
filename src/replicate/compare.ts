// The two things logical replication does not carry, done at cutover with the
// source read-only: sequence values (a subscriber inserts the source's ids and
// never calls nextval), and the proof that every row arrived.
import { quoteIdent } from "../database/admin";
import type { Sql } from "./catalog";

export interface SequenceValue {
  readonly name: string;
  readonly value: string;
}

/**
 * Moves every sequence of the target's schema past both the source's last
 * value and the highest id its column holds on the target, so the first
 * insert on the target can collide with nothing. Only ever moves forward:
 * safe to repeat.
 */
export async function copySequences(source: Sql, target: Sql): Promise<SequenceValue[]> {
  const fromSource = new Map(
    (
      await source<{ name: string; last: string | null }[]>`
        select sequencename as name, last_value::text as last from pg_sequences where schemaname = current_schema()`
    ).map((row) => [row.name, BigInt(row.last ?? 0)]),
  );
  // Each sequence with the column that owns it (serial: 'a', identity: 'i').
  const sequences = await target<
    { name: string; table: string | null; column: string | null; current: string | null }[]
  >`
    select s.relname as name, t.relname as table, a.attname as column, ps.last_value::text as current
    from pg_class s
    join pg_sequences ps on ps.schemaname = current_schema() and ps.sequencename = s.relname
    left join pg_depend d on d.classid = 'pg_class'::regclass and d.objid = s.oid
                         and d.refclassid = 'pg_class'::regclass and d.deptype in ('a', 'i')
    left join pg_class t on t.oid = d.refobjid
    left join pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
    where s.relkind = 'S' and s.relnamespace = current_schema()::regnamespace
    order by s.relname`;
  const copied: SequenceValue[] = [];
  for (const sequence of sequences) {
    let highest = fromSource.get(sequence.name) ?? 0n;
    if (sequence.table !== null && sequence.column !== null) {
      const [row] = await target<{ max: string | null }[]>`
        select max(${target(sequence.column)})::text as max from ${target(sequence.table)}`;
      const inTable = BigInt(row?.max ?? 0);
      if (inTable > highest) highest = inTable;
    }
    const current = BigInt(sequence.current ?? 0);
    if (current > highest) highest = current;
    if (highest === 0n) continue; // never used anywhere: the next value is its start
    await target`select setval(quote_ident(${sequence.name})::regclass, ${highest.toString()}::bigint, true)`;
    copied.push({ name: sequence.name, value: highest.toString() });
  }
  return copied;
}

/** Compares row counts table by table; throws naming every table that differs. */
export async function verifyRowCounts(
  source: Sql,
  target: Sql,
  tables: readonly string[],
): Promise<Map<string, number>> {
  const [fromSource, fromTarget] = [await countRows(source, tables), await countRows(target, tables)];
  const differences = tables
    .filter((table) => fromSource.get(table) !== fromTarget.get(table))
    .map((table) => `${table}: source ${fromSource.get(table)}, target ${fromTarget.get(table)}`);
  if (differences.length > 0) throw new Error(`row counts differ (${differences.join("; ")})`);
  return fromSource;
}

/** Every table's row count in one statement (one round trip while writes wait). */
async function countRows(sql: Sql, tables: readonly string[]): Promise<Map<string, number>> {
  const query = tables.map((table, i) => `(select count(*) from ${quoteIdent(table)}) as c${i}`).join(", ");
  const [row] = await sql.unsafe<Record<string, string>[]>(`select ${query}`);
  return new Map(tables.map((table, i) => [table, Number(row?.[`c${i}`])]));
}
