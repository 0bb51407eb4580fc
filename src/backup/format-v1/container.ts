// Format 1: the reader of the private backup container that `minitwit backup`
// wrote before backups became plain SQL scripts (sql-script.ts). Kept, and
// kept small, so that backups already stored in this format still restore;
// nothing writes it any more.
//
// The container: several tables' COPY data in one byte stream, which the
// backup then gzipped (and encrypted). It is line-framed with explicit
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
// escaped), so counting "\n" bytes counts rows. The reader refuses anything over MAX_BLOCK, so a corrupt
// length can never make it allocate more than that.
import { countNewlines } from "../sql-script";
import { ByteReader } from "./byte-reader";

const MAGIC = "MINITWIT-BACKUP 1";
const MAX_BLOCK = 16 * 1024 * 1024;
const MAX_LINE = 64 * 1024;

export type ContainerEvent =
  | { readonly kind: "table"; readonly table: string; readonly columns: string[] }
  | { readonly kind: "data"; readonly bytes: Uint8Array }
  | { readonly kind: "end"; readonly table: string; readonly rows: number };

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
      count += countNewlines(bytes);
      yield { kind: "data", bytes };
    }
    tables++;
  }
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
