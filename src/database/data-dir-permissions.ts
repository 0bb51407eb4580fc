// The embedded database's directory is for MiniTwit's user alone. PGlite
// writes its files with the process's umask (0644 in a 0755 directory under
// the usual 022), so any local user could read the argon2id hashes from the
// WAL. DATA_DIR is made 0700 and everything in it is created 0600 (0700 for
// directories) through the umask; a directory made by an earlier release is
// tightened at start, once, with a log line saying so. PGlite's file system
// layer applies a umask of its own (022) and sets some modes explicitly
// (PostgreSQL's relation-cache init file comes out 0644), so the directory
// is swept again once PGlite has started and once it has closed; in
// between, DATA_DIR's 0700 keeps everyone else out of all of it.
import { chmodSync, lstatSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../observability/log";

/** Group and other bits: what is refused to anyone but the owner. */
const NOT_OWNER = 0o077;

/**
 * Creates DATA_DIR 0700 (or tightens it and everything under it), and sets
 * the process's umask so that the files PGlite writes afterwards are the
 * owner's only. The umask holds for the whole process: an embedded
 * installation keeps every file it writes (the session secret, backups
 * written with --output) to its user.
 */
export function secureDataDir(dir: string, log: Logger): void {
  process.umask(NOT_OWNER);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if ((lstatSync(dir).mode & NOT_OWNER) === 0) return;
  const before = lstatSync(dir).mode & 0o777;
  const tightened = tighten(dir);
  log.warn(
    { dataDir: dir, before: `0${before.toString(8)}`, tightened },
    "DATA_DIR was readable by other users; made it and its files the owner's only (0700 directories, 0600 files)",
  );
}

/** Makes everything under DATA_DIR the owner's again, quietly; returns how many entries changed. */
export function keepOwnerOnly(dir: string): number {
  return tighten(dir);
}

/** Removes group and other permissions from `path` and everything under it; returns how many entries changed. */
function tighten(path: string): number {
  const stat = lstatSync(path);
  // A symbolic link's own mode means nothing, and following it could reach outside DATA_DIR.
  if (stat.isSymbolicLink()) return 0;
  let changed = 0;
  if ((stat.mode & NOT_OWNER) !== 0) {
    chmodSync(path, stat.mode & 0o700);
    changed++;
  }
  if (stat.isDirectory()) for (const name of readdirSync(path)) changed += tighten(join(path, name));
  return changed;
}
