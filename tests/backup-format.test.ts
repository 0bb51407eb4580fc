// The backup container on its own: what goes in comes out table by table
// with its row counts, the load order respects foreign keys, and a stream
// that is cut, reordered or miscounted is refused instead of half-read.
import { describe, expect, test } from "bun:test";
import { type ContainerEvent, decodeContainer, encodeContainer, loadOrder } from "../src/backup/format";

const encoder = new TextEncoder();

/** Splits bytes into chunks of the given sizes, cycling, as a network would. */
async function* chunked(bytes: Uint8Array, sizes: number[]): AsyncGenerator<Uint8Array> {
  let offset = 0;
  for (let i = 0; offset < bytes.length; i++) {
    const size = sizes[i % sizes.length] as number;
    yield bytes.subarray(offset, offset + size);
    offset += size;
  }
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of source) parts.push(part.slice());
  return new Uint8Array(Buffer.concat(parts));
}

function source(table: string, columns: string[], rows: string[]) {
  return {
    table,
    columns,
    // One chunk per row, as postgres.js delivers COPY data.
    open: async () =>
      (async function* () {
        for (const row of rows) yield encoder.encode(row);
      })(),
  };
}

// COPY text format: tab-separated, one "\n" per row, newlines inside values escaped.
const USERS = ["1\talice\ta@x\th\n", "2\tbob smith\tb@x\th\n", "7\t\\\\.\tc@x\tmulti\\nline\n"];
const MANY = Array.from({ length: 20_000 }, (_, i) => `${i}\t${"x".repeat(i % 300)}\n`);
const TABLES = [
  source("users", ["user_id", "username", "email", "pw_hash"], USERS),
  source("empty", ["id"], []),
  source("messages", ["message_id", "text"], MANY),
];

async function encoded(): Promise<{ bytes: Uint8Array; counts: Record<string, number> }> {
  const counts: Record<string, number> = {};
  const bytes = await collect(encodeContainer(TABLES, (table, n) => (counts[table] = n)));
  return { bytes, counts };
}

async function decodeAll(
  bytes: Uint8Array,
  sizes = [4096],
): Promise<{ tables: Record<string, string>; ends: ContainerEvent[] }> {
  const tables: Record<string, string> = {};
  const ends: ContainerEvent[] = [];
  let current = "";
  for await (const event of decodeContainer(chunked(bytes, sizes))) {
    if (event.kind === "table") {
      current = event.table;
      tables[current] = "";
    } else if (event.kind === "data") tables[current] += new TextDecoder().decode(event.bytes);
    else ends.push(event);
  }
  return { tables, ends };
}

describe("the container", () => {
  test.each([[[1]], [[7, 13, 1000]], [[65_536]], [[1 << 22]]])(
    "gives back every table's data and row count, read in chunks of %j bytes",
    async (sizes) => {
      const { bytes, counts } = await encoded();
      expect(counts).toEqual({ users: 3, empty: 0, messages: MANY.length });
      const { tables, ends } = await decodeAll(bytes, sizes);
      expect(tables).toEqual({ users: USERS.join(""), empty: "", messages: MANY.join("") });
      expect(ends).toEqual([
        { kind: "end", table: "users", rows: 3 },
        { kind: "end", table: "empty", rows: 0 },
        { kind: "end", table: "messages", rows: MANY.length },
      ]);
    },
    30_000,
  );

  test("a stream cut anywhere is refused, never read as a shorter backup", async () => {
    const { bytes } = await encoded();
    const cuts = [0, 5, 18, 40, 100, 1000, bytes.length - 200_000, bytes.length - 3, bytes.length - 1];
    for (const cut of cuts) {
      await expect(decodeAll(bytes.subarray(0, cut)), `cut at ${cut}`).rejects.toThrow(
        /truncated|end of data|not a MiniTwit backup/,
      );
    }
  });

  test.each([
    ["another file", "PK\u0003\u0004 zip", /not a MiniTwit backup/],
    ["a newer format", "MINITWIT-BACKUP 2\n", /newer than this minitwit/],
    [
      "a wrong row count",
      'MINITWIT-BACKUP 1\nT {"table":"t","columns":["a"]}\nD 2\n1\nE 5\nZ 1\n',
      /declares 5 rows but holds 1/,
    ],
    [
      "a huge block length",
      'MINITWIT-BACKUP 1\nT {"table":"t","columns":["a"]}\nD 999999999\n',
      /data block of 999999999/,
    ],
    ["a table header that is not JSON", "MINITWIT-BACKUP 1\nT users\n", /not JSON/],
    ["a wrong table count", 'MINITWIT-BACKUP 1\nT {"table":"t","columns":["a"]}\nE 0\nZ 2\n', /final marker/],
    ["data after the end", "MINITWIT-BACKUP 1\nZ 0\nmore", /after the final marker/],
  ])("%s is refused", async (_, text, error) => {
    await expect(decodeAll(encoder.encode(text))).rejects.toThrow(error);
  });
});

describe("load order", () => {
  test.each([
    [
      "MiniTwit's schema",
      ["messages", "followers", "users", "latest", "schema_migrations", "moderation_events"],
      [
        { child: "followers", parent: "users" },
        { child: "messages", parent: "users" },
        { child: "moderation_events", parent: "messages" },
      ],
      ["latest", "schema_migrations", "users", "followers", "messages", "moderation_events"],
    ],
    ["a self-reference", ["b", "a"], [{ child: "a", parent: "a" }], ["a", "b"]],
    [
      "a chain",
      ["c", "b", "a"],
      [
        { child: "a", parent: "b" },
        { child: "b", parent: "c" },
      ],
      ["c", "b", "a"],
    ],
  ])("%s: every table after the tables it references", (_, tables, references, expected) => {
    expect(loadOrder(tables, references)).toEqual(expected);
  });

  test("a cycle between tables is refused", () => {
    expect(() =>
      loadOrder(
        ["a", "b"],
        [
          { child: "a", parent: "b" },
          { child: "b", parent: "a" },
        ],
      ),
    ).toThrow(/cycle/);
  });
});
