// A backup streams: 200,000 messages whose gzipped dump is larger than
// 300 MB are backed up by `minitwit backup` in a child process whose peak
// resident memory stays under 300 MB. Holding the dump, or even only its
// compressed form, would exceed that. (bench/backup-memory.ts prints the
// figures; docs/operations.md records them.)
import { expect, test } from "bun:test";
import { measureBackupMemory } from "../bench/backup-memory";

const MB = 1024 * 1024;

test("a backup of 200,000 messages streams without holding the dump in memory", async () => {
  const result = await measureBackupMemory({ messages: 200_000, textBytes: 2200, encrypted: true });
  // The premise: what is stored would not fit under the bound by itself.
  expect(result.payloadBytes).toBeGreaterThan(300 * MB);
  expect(result.dumpBytes).toBeGreaterThan(result.payloadBytes);
  expect(result.peakRssBytes).toBeGreaterThan(0);
  expect(result.peakRssBytes).toBeLessThan(300 * MB);
}, 600_000);
