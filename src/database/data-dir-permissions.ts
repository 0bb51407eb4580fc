// The embedded database's directory is for MiniTwit's user alone. PGlite's
// files were 0644 in a 0755 directory, so any local user could read the
// argon2id hashes from the WAL. DATA_DIR is created 0700, and a directory
// made by an earlier release is tightened at start, once, with a log line
// saying so. PGlite's file layer applies a umask of its own (022), so the
// files PostgreSQL opens with its own mode are 0600 already, but the few it
// writes through fopen() (the relation-cache init files) come out 0644, and
// so would whatever an operator copies in: the directory is swept (group and
// other bits removed) once PGlite has started and once it has closed; in
// between, DATA_DIR's 0700 keeps everyone else out of all of it. The
// process's umask is left alone: it is inherited by every child process,
// and a test process that runs the embedded database beside a PostgreSQL
// started as another user would lock that one out of its own files.
import { chmodSync, lstatSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../observability/log";

/** Group and other bits: what is refused to anyone but the owner. */
const NOT_OWNER = 0o077;

/** Creates DATA_DIR 0700, or tightens it and everything under it with a warning when others may use it. */
export function secureDataDir(dir: string, log: Logger): void {
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
