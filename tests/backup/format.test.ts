// The backup script on its own: what goes in comes out table by table with
// its row counts, whatever the chunking; the load order respects foreign
// keys; and a script that is cut, miscounted or not a backup is refused
// instead of half-read.
import { describe, expect, test } from "bun:test";
import { loadOrder } from "../../src/backup/snapshot";
import { encodeSqlScript } from "../../src/backup/sql-script";
import { decodeSqlScript, type ScriptEvent } from "../../src/backup/sql-script-reader";

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

// COPY text format: tab-separated, one "\n" per row, newlines and backslashes inside values escaped.
const USERS = ["1\talice\ta@x\th\n", "2\tbob smith\tb@x\th\n", "7\t\\\\.\tc@x\tmulti\\nline\n", "8\t\\.\tx\th\n"];
const MANY = Array.from({ length: 20_000 }, (_, i) => `${i}\t${"x".repeat(i % 300)}\n`);
const PARTS = {
  schemaVersion: "0002_flagged_messages",
  createdAt: new Date("2030-01-02T03:04:05.678Z"),
  migrations: [
    { tag: "0000_init", sql: 'CREATE TABLE "users" ();\n--> statement-breakpoint\nCREATE INDEX "i" ON "users" ("x");' },
  ],
  tables: [
    source("users", ["user_id", "username", "email", "pw_hash"], USERS),
    source("empty", ["id"], []),
    source('with "quote', ["a b", 'c"d'], ["1\t2\n"]),
    source("messages", ["message_id", "text"], MANY),
  ],
  sequences: [{ table: "users", column: "user_id" }],
};

async function encoded(): Promise<{ bytes: Uint8Array; counts: Record<string, number> }> {
  const counts: Record<string, number> = {};
  const bytes = await collect(encodeSqlScript(PARTS, (table, n) => (counts[table] = n)));
  return { bytes, counts };
}

async function decodeAll(bytes: Uint8Array, sizes = [4096]) {
  const tables: Record<string, string> = {};
  const events: ScriptEvent[] = [];
  let current = "";
  for await (const event of decodeSqlScript(chunked(bytes, sizes))) {
    if (event.kind === "table") {
      current = event.table;
      tables[current] = "";
      events.push(event);
    } else if (event.kind === "data") tables[current] += new TextDecoder().decode(event.bytes);
    else events.push(event);
  }
  return { tables, events };
}

describe("the script", () => {
  test.each([[[5]], [[1, 7, 13, 1000]], [[65_536]], [[1 << 22]]])(
    "gives back every table's data, columns and row count, read in chunks of %j bytes",
    async (sizes) => {
      const { bytes, counts } = await encoded();
      expect(counts).toEqual({ users: 4, empty: 0, 'with "quote': 1, messages: MANY.length });
      const { tables, events } = await decodeAll(bytes, sizes);
      expect(tables).toEqual({ users: USERS.join(""), empty: "", 'with "quote': "1\t2\n", messages: MANY.join("") });
      expect(events[0]).toEqual({
        kind: "header",
        schemaVersion: PARTS.schemaVersion,
        createdAt: "2030-01-02T03:04:05.678Z",
      });
      expect(events).toContainEqual({ kind: "table", table: 'with "quote', columns: ["a b", 'c"d'] });
      expect(events.at(-1)).toEqual({ kind: "trailer", tables: counts });
    },
    30_000,
  );

  test("is SQL: the migrations' statements each end in a semicolon, the data in COPY blocks, sequences moved", async () => {
    const text = new TextDecoder().decode((await encoded()).bytes);
    expect(text).toContain('CREATE TABLE "users" ();\nCREATE INDEX "i" ON "users" ("x");\n');
    expect(text).toContain("create table if not exists schema_migrations");
    expect(text).toContain('COPY "with ""quote" ("a b", "c""d") FROM stdin;\n1\t2\n\\.\n');
    expect(text).toMatch(
      /BEGIN;[\s\S]*select pg_catalog\.setval\(.*'"users"', 'user_id'.*\n\nCOMMIT;\n-- minitwit-backup-end: /,
    );
  });

  test("a script cut anywhere is refused, never read as a shorter backup", async () => {
    const { bytes } = await encoded();
    const cuts = [0, 5, 300, 1000, bytes.length - 200_000, bytes.length - 60, bytes.length - 3, bytes.length - 1];
    for (const cut of cuts) {
      await expect(decodeAll(bytes.subarray(0, cut)), `cut at ${cut}`).rejects.toThrow(
        /truncated|not a MiniTwit backup/,
      );
    }
  });

  const HEADER = '-- minitwit-backup: {"formatVersion":2,"schemaVersion":"0000_init","createdAt":"x"}\n';
  test.each([
    ["another file", "PK\u0003\u0004 zip\n", /not a MiniTwit backup script/],
    ["a newer format", '-- minitwit-backup: {"formatVersion":3}\n', /format 3 is not one this minitwit understands/],
    ["a header that is not JSON", "-- minitwit-backup: {oops\n", /header is not JSON/],
    [
      "a trailer that does not match the rows",
      `${HEADER}COPY "t" ("a") FROM stdin;\n1\n2\n\\.\n-- minitwit-backup-end: {"tables":{"t":5}}\n`,
      /trailer declares rows \{"t":5\}, the script holds \{"t":2\}/,
    ],
    [
      "a table twice",
      `${HEADER}COPY "t" ("a") FROM stdin;\n\\.\nCOPY "t" ("a") FROM stdin;\n\\.\n`,
      /table t appears twice/,
    ],
    [
      "data after the trailer",
      `${HEADER}-- minitwit-backup-end: {"tables":{}}\nDROP TABLE users;\n`,
      /something follows the trailer/,
    ],
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
