// Reads a backup script (sql-script.ts) back as a stream of events without
// running any of its SQL: the header (schema version), each COPY block's
// table, columns and data, and the trailer's row counts, checked against the
// rows actually read. `minitwit restore` migrates the target itself and loads
// only the COPY data into tables it knows, so a backup can never make it run
// arbitrary statements. Memory: one chunk plus one unfinished line.
import { HEADER_PREFIX, SCRIPT_FORMAT_VERSION, TRAILER_PREFIX } from "./sql-script";

/** Longest statement line outside COPY data; the scripts' own lines are far shorter. */
const MAX_LINE = 1024 * 1024;
/** Longest COPY row held while looking for its end. */
const MAX_ROW = 64 * 1024 * 1024;
const COPY_LINE = /^COPY ("(?:[^"]|"")+") \(((?:"(?:[^"]|"")+")(?:, "(?:[^"]|"")+")*)\) FROM stdin;$/;
const IDENT = /"((?:[^"]|"")+)"/g;

export type ScriptEvent =
  | { readonly kind: "header"; readonly schemaVersion: string; readonly createdAt: string }
  | { readonly kind: "table"; readonly table: string; readonly columns: string[] }
  | { readonly kind: "data"; readonly bytes: Uint8Array }
  | { readonly kind: "end"; readonly table: string; readonly rows: number }
  | { readonly kind: "trailer"; readonly tables: Record<string, number> };

interface State {
  header: boolean;
  trailer: Record<string, number> | null;
  /** The table whose COPY data is being read, or null between blocks. */
  copy: { table: string; rows: number } | null;
  counts: Map<string, number>;
}

export async function* decodeSqlScript(source: AsyncIterable<Uint8Array>): AsyncGenerator<ScriptEvent> {
  const state: State = { header: false, trailer: null, copy: null, counts: new Map() };
  let rest: Uint8Array = new Uint8Array(0);
  for await (const chunk of source) {
    const buffer = rest.length === 0 ? chunk : concat(rest, chunk);
    let lineStart = 0;
    let dataStart = 0;
    for (let nl = buffer.indexOf(10); nl !== -1; nl = buffer.indexOf(10, lineStart)) {
      if (state.copy !== null) {
        if (!isEndOfData(buffer, lineStart, nl)) {
          state.copy.rows++;
          lineStart = nl + 1;
          continue;
        }
        if (lineStart > dataStart) yield { kind: "data", bytes: buffer.subarray(dataStart, lineStart) };
        yield endOfTable(state);
      } else {
        const event = statementLine(state, decodeLine(buffer.subarray(lineStart, nl)));
        if (event !== null) yield event;
      }
      lineStart = nl + 1;
      dataStart = lineStart;
    }
    if (state.copy !== null && lineStart > dataStart) {
      yield { kind: "data", bytes: buffer.subarray(dataStart, lineStart) };
    }
    rest = buffer.subarray(lineStart);
    if (rest.length > (state.copy === null ? MAX_LINE : MAX_ROW)) throw corrupt("a line is far too long");
  }
  if (state.copy !== null) throw new Error(`backup is truncated inside the data of table ${state.copy.table}`);
  if (rest.length > 0 || state.trailer === null) throw new Error("backup is truncated: it ends before its trailer");
  yield { kind: "trailer", tables: state.trailer };
}

/** One line between COPY blocks: the header, a COPY statement, the trailer, or SQL that is not read. */
function statementLine(state: State, line: string): ScriptEvent | null {
  if (state.trailer !== null) {
    if (line.trim() === "") return null;
    throw corrupt("something follows the trailer");
  }
  if (line.startsWith(HEADER_PREFIX)) return header(state, line.slice(HEADER_PREFIX.length));
  if (!state.header) {
    if (line.startsWith("--") || line.trim() === "") return null;
    throw new Error("not a MiniTwit backup script (no minitwit-backup header)");
  }
  if (line.startsWith(TRAILER_PREFIX)) {
    state.trailer = trailer(state, line.slice(TRAILER_PREFIX.length));
    return null;
  }
  if (!COPY_LINE.test(line)) return null;
  // The pattern matched, so the quoted names in the line are the table's, then its columns'.
  const [table, ...columns] = [...line.matchAll(IDENT)].map((m) => (m[1] as string).replaceAll('""', '"')) as [
    string,
    ...string[],
  ];
  if (state.counts.has(table)) throw corrupt(`table ${table} appears twice`);
  state.copy = { table, rows: 0 };
  return { kind: "table", table, columns };
}

function header(state: State, json: string): ScriptEvent {
  if (state.header) throw corrupt("a second header");
  const value = parseJson(json, "header") as { formatVersion?: unknown; schemaVersion?: unknown; createdAt?: unknown };
  if (value.formatVersion !== SCRIPT_FORMAT_VERSION) {
    throw new Error(`backup script format ${String(value.formatVersion)} is not one this minitwit understands`);
  }
  if (typeof value.schemaVersion !== "string" || typeof value.createdAt !== "string") {
    throw corrupt("the header lacks the schema version or time");
  }
  state.header = true;
  return { kind: "header", schemaVersion: value.schemaVersion, createdAt: value.createdAt };
}

function trailer(state: State, json: string): Record<string, number> {
  const { tables } = parseJson(json, "trailer") as { tables?: Record<string, unknown> };
  const declared = Object.entries(tables ?? {});
  const matches =
    declared.length === state.counts.size && declared.every(([table, rows]) => state.counts.get(table) === rows);
  if (!matches) {
    const read = JSON.stringify(Object.fromEntries(state.counts));
    throw corrupt(`the trailer declares rows ${JSON.stringify(tables)}, the script holds ${read}`);
  }
  return Object.fromEntries(state.counts);
}

function endOfTable(state: State): ScriptEvent {
  const { table, rows } = state.copy as { table: string; rows: number };
  state.counts.set(table, rows);
  state.copy = null;
  return { kind: "end", table, rows };
}

/** The line from `start` to the newline at `nl` is "\." */
function isEndOfData(buffer: Uint8Array, start: number, nl: number): boolean {
  return nl - start === 2 && buffer[start] === 0x5c && buffer[start + 1] === 0x2e;
}

function decodeLine(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (err) {
    throw new Error("backup is corrupt: a statement line is not UTF-8", { cause: err });
  }
}

function parseJson(json: string, what: string): Record<string, unknown> {
  try {
    const value = JSON.parse(json);
    if (typeof value === "object" && value !== null) return value;
  } catch (err) {
    throw new Error(`backup is corrupt: its ${what} is not JSON`, { cause: err });
  }
  throw corrupt(`its ${what} is not a JSON object`);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function corrupt(what: string): Error {
  return new Error(`backup is corrupt: ${what}`);
}
