// The runbook's worked example of `minitwit replicate` names the tables a
// move publishes, copies and counts: every table of the schema.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { replicatedTables } from "../../src/replicate/catalog";

const runbook = readFileSync(join(import.meta.dir, "..", "..", "docs", "operations.md"), "utf8");
const section = runbook.slice(
  runbook.indexOf("## Moving to a new database (logical replication)"),
  runbook.indexOf("## Importing a legacy MiniTwit database"),
);

test("the worked example lists every replicated table in the publication, the table states and the row counts", () => {
  const tables = replicatedTables();
  expect(tables.length).toBeGreaterThanOrEqual(7);
  expect(/^publication minitwit_move: (.*)$/m.exec(section)?.[1]).toBe(tables.join(", "));
  const states = /^tables:\n((?: {2}\S+ +\S+\n)+)/m.exec(section)?.[1] ?? "";
  expect(
    states
      .trim()
      .split("\n")
      .map((line) => line.trim().split(/ +/)[0]),
  ).toEqual(tables);
  const counts = /^row counts match: (.*)$/m.exec(section)?.[1] ?? "";
  expect(counts.split(", ").map((pair) => pair.split(" ")[0])).toEqual(tables);
});
