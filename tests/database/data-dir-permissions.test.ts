// Issue 31, attack 14: the embedded database's files were 0644 in a 0755
// directory, so any local user could read the argon2id hashes from the WAL.
// DATA_DIR is now created 0700 with its files 0600, and a directory made
// before is tightened at start, with a log line. Each run is a real
// `minitwit migrate` started under the usual umask of 022.
import { afterAll, expect, test } from "bun:test";
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runMinitwit } from "../support/cli";
import { startTestServer } from "../support/server";

const scratch = mkdtempSync(join(tmpdir(), "minitwit-perms-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * `minitwit migrate` on dataDir under a umask of 022, as a login shell's
 * usually is. The child inherits the umask at spawn, which runMinitwit does
 * before its first await; the test process's own is restored at once.
 */
async function migrate(dataDir: string): Promise<string> {
  const previous = process.umask(0o022);
  const running = runMinitwit(["migrate"], { DATA_DIR: dataDir });
  process.umask(previous);
  const { code, stdout, stderr } = await running;
  if (code !== 0) throw new Error(`migrate failed: ${stderr}`);
  return stdout;
}

/** Every entry under dir (itself included) that anyone but the owner may use, with its mode. */
function openToOthers(dir: string): string[] {
  const found: string[] = [];
  const walk = (path: string) => {
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) return;
    if ((stat.mode & 0o077) !== 0) found.push(`${path.slice(dir.length) || "/"} 0${(stat.mode & 0o777).toString(8)}`);
    if (stat.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(dir);
  return found;
}

test("a new DATA_DIR is 0700 and everything in it is the owner's only", async () => {
  const dataDir = join(scratch, "new");
  await migrate(dataDir);
  expect(lstatSync(dataDir).mode & 0o777).toBe(0o700);
  expect(readdirSync(join(dataDir, "pglite")).length).toBeGreaterThan(5);
  expect(openToOthers(dataDir)).toEqual([]);
}, 120_000);

test("a DATA_DIR readable by others is tightened at start, with a log line", async () => {
  const dataDir = join(scratch, "loose");
  await migrate(dataDir);
  // As an earlier release left it: 0755 directories, 0644 files.
  const loosen = (path: string) => {
    const stat = lstatSync(path);
    chmodSync(path, stat.isDirectory() ? 0o755 : 0o644);
    if (stat.isDirectory()) for (const name of readdirSync(path)) loosen(join(path, name));
  };
  mkdirSync(join(dataDir, "notes"));
  writeFileSync(join(dataDir, "notes", "readme"), "an operator's file");
  loosen(dataDir);
  expect(openToOthers(dataDir).length).toBeGreaterThan(10);

  const out = await migrate(dataDir);
  expect(openToOthers(dataDir)).toEqual([]);
  const line = out.split("\n").find((l) => l.includes("DATA_DIR was readable by other users"));
  expect(line).toBeDefined();
  expect(JSON.parse(line as string)).toMatchObject({ level: "warn", dataDir, before: "0755" });

  // Once tight, a start says nothing more.
  expect(await migrate(dataDir)).not.toContain("DATA_DIR was readable");
}, 120_000);

test("a running server's DATA_DIR is 0700, and the process's umask, which children inherit, is left alone", async () => {
  const umask = process.umask(0o022);
  process.umask(umask);
  const server = await startTestServer("pglite");
  try {
    expect(lstatSync(server.config.dataDir).mode & 0o777).toBe(0o700);
    const now = process.umask(umask);
    expect(now).toBe(umask);
  } finally {
    await server.stop();
  }
}, 120_000);
