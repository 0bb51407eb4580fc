// The backup container: several tables' COPY data in one byte stream, which
// the backup then gzips (and encrypts). It is line-framed with explicit
// lengths so the reader never has to guess where a table's data ends, and it
// counts its own rows so a damaged or cut stream cannot pass for a backup.
//
// Format version 1:
//
//   MINITWIT-BACKUP 1\n
//   T {"table":"users","columns":["user_id","username","email","pw_hash"]}\n
//   D <n>\n<n bytes of COPY text-format data>       zero or more blocks per table
//   E <rows>\n                                      end of the table: rows in its blocks
//   T ... D ... E ...                               the next tables, in load order (loadOrder)
//   Z <tables>\n                                    end of the backup: number of tables
//
// COPY text format ends every row with one "\n" (newlines inside values are
// escaped), so counting "\n" bytes counts rows. Blocks are written at most
// BLOCK_SIZE long; the reader refuses anything over MAX_BLOCK, so a corrupt
// length can never make it allocate more than that.
import { ByteReader } from "./byte-reader";

/** A foreign key: rows of `child` point at rows of `parent`. */
export interface Reference {
  readonly child: string;
  readonly parent: string;
}

/**
 * The tables in an order that loads without breaking a foreign key: every
 * table after the tables it references, ties by name so the order is stable.
 * Self-references are fine (COPY checks them row by row); a cycle between
 * tables cannot be loaded table by table and is refused.
 */
export function loadOrder(tables: readonly string[], references: readonly Reference[]): string[] {
  const pending = new Set(tables);
  const order: string[] = [];
  while (pending.size > 0) {
    const ready = [...pending]
      .filter((t) => !references.some((r) => r.child === t && r.parent !== t && pending.has(r.parent)))
      .sort();
    if (ready.length === 0) throw new Error(`foreign keys form a cycle among: ${[...pending].sort().join(", ")}`);
    for (const table of ready) {
      order.push(table);
      pending.delete(table);
    }
  }
  return order;
}

const MAGIC = "MINITWIT-BACKUP 1";
const BLOCK_SIZE = 256 * 1024;
const MAX_BLOCK = 16 * 1024 * 1024;
const MAX_LINE = 64 * 1024;
const encoder = new TextEncoder();

/** One table's data, opened only when the writer reaches it (COPYs on one connection run one at a time). */
export interface TableSource {
  readonly table: string;
  readonly columns: readonly string[];
  open(): Promise<AsyncIterable<Uint8Array>>;
}

export type ContainerEvent =
  | { readonly kind: "table"; readonly table: string; readonly columns: string[] }
  | { readonly kind: "data"; readonly bytes: Uint8Array }
  | { readonly kind: "end"; readonly table: string; readonly rows: number };

/** Writes the container; `rows` receives each table's row count once its data is complete. */
export async function* encodeContainer(
  tables: readonly TableSource[],
  rows: (table: string, count: number) => void,
): AsyncGenerator<Uint8Array> {
  yield encoder.encode(`${MAGIC}\n`);
  for (const source of tables) {
    yield encoder.encode(`T ${JSON.stringify({ table: source.table, columns: source.columns })}\n`);
    let count = 0;
    for await (const block of rebatch(await source.open(), BLOCK_SIZE)) {
      count += countRows(block);
      yield encoder.encode(`D ${block.length}\n`);
      yield block;
    }
    yield encoder.encode(`E ${count}\n`);
    rows(source.table, count);
  }
  yield encoder.encode(`Z ${tables.length}\n`);
}

/** Reads the container back, checking its framing and every table's row count. */
export async function* decodeContainer(source: AsyncIterable<Uint8Array>): AsyncGenerator<ContainerEvent> {
  const reader = new ByteReader(source);
  const first = await reader.readLine(64, "backup header").catch(() => null);
  if (first !== MAGIC) {
    throw new Error(
      first?.startsWith("MINITWIT-BACKUP ")
        ? `backup container "${first}" is newer than this minitwit understands`
        : "not a MiniTwit backup (no container header)",
    );
  }
  let tables = 0;
  for (;;) {
    const line = await reader.readLine(MAX_LINE, "table header");
    if (line === null) throw new Error("backup is truncated: it ends before its final marker");
    if (line.startsWith("Z ")) {
      if (number(line.slice(2), "table count") !== tables) throw corrupt(`final marker "${line}"`);
      if (!(await reader.atEnd())) throw corrupt("data after the final marker");
      return;
    }
    if (!line.startsWith("T ")) throw corrupt(`expected a table header, got "${line.slice(0, 40)}"`);
    const { table, columns } = tableHeader(line.slice(2));
    yield { kind: "table", table, columns };
    let count = 0;
    for (;;) {
      const next = await reader.readLine(MAX_LINE, `data of ${table}`);
      if (next === null) throw new Error(`backup is truncated inside table ${table}`);
      if (next.startsWith("E ")) {
        const rows = number(next.slice(2), "row count");
        if (rows !== count) throw corrupt(`table ${table} declares ${rows} rows but holds ${count}`);
        yield { kind: "end", table, rows };
        break;
      }
      if (!next.startsWith("D ")) throw corrupt(`expected a data block in ${table}, got "${next.slice(0, 40)}"`);
      const length = number(next.slice(2), "block length");
      if (length < 1 || length > MAX_BLOCK) throw corrupt(`data block of ${length} bytes in ${table}`);
      const bytes = await reader.read(length, `data block of ${table}`);
      count += countRows(bytes);
      yield { kind: "data", bytes };
    }
    tables++;
  }
}

/** Regroups many small chunks (postgres.js yields one per row) into blocks of `size` bytes. */
async function* rebatch(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  let block = new Uint8Array(size);
  let used = 0;
  for await (const chunk of source) {
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(size - used, chunk.length - offset);
      block.set(chunk.subarray(offset, offset + n), used);
      used += n;
      offset += n;
      if (used === size) {
        yield block;
        block = new Uint8Array(size);
        used = 0;
      }
    }
  }
  if (used > 0) yield block.subarray(0, used);
}

function countRows(bytes: Uint8Array): number {
  let count = 0;
  for (let at = bytes.indexOf(10); at !== -1; at = bytes.indexOf(10, at + 1)) count++;
  return count;
}

function tableHeader(json: string): { table: string; columns: string[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw corrupt("table header is not JSON");
  }
  const { table, columns } = (parsed ?? {}) as { table?: unknown; columns?: unknown };
  if (typeof table !== "string" || !Array.isArray(columns) || !columns.every((c) => typeof c === "string")) {
    throw corrupt("table header lacks a table name or columns");
  }
  return { table, columns };
}

function number(text: string, what: string): number {
  if (!/^\d{1,15}$/.test(text)) throw corrupt(`${what} "${text.slice(0, 20)}"`);
  return Number(text);
}

function corrupt(what: string): Error {
  return new Error(`backup is corrupt: ${what}`);
}
