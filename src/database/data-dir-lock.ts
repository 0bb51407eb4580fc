// One process at a time owns an embedded data directory. PGlite keeps the
// whole database in the memory of the process that opened it and writes the
// directory back as it pleases: a second process on the same directory is a
// second, unaware writer, and acknowledged writes of one overwrite the other's.
//
// The lock is flock(2) on DATA_DIR/minitwit.lock, called through bun:ffi since
// Bun's API has no flock. It was chosen over a PID file because the kernel
// drops it with the process, however the process ends (SIGKILL, OOM kill,
// power loss on a network-less box): there is no stale state to judge, no
// PID reuse to guard against, and no window between "check" and "take". The
// file itself stays: deleting a flock'ed file lets a later process lock a new
// file while another still waits on the old one. The holder writes its PID
// into it, only so that the refusal can say who holds the directory.
import { dlopen, FFIType, read } from "bun:ffi";
import { closeSync, constants, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";

export interface DataDirLock {
  /** Releases the directory for the next process; safe to call twice. */
  release(): void;
}

const LOCK_EX = 2;
const LOCK_NB = 4;

// The C library and its "lock is held" errno, per platform Bun runs MiniTwit on.
const PLATFORMS: Partial<Record<NodeJS.Platform, { lib: string; errno: string; wouldBlock: number }>> = {
  linux: { lib: "libc.so.6", errno: "__errno_location", wouldBlock: 11 },
  darwin: { lib: "libc.dylib", errno: "__error", wouldBlock: 35 },
};

let libc: { flock(fd: number, operation: number): number; errno(): number } | null = null;

function loadLibc() {
  if (libc !== null) return libc;
  const platform = PLATFORMS[process.platform];
  if (platform === undefined) {
    throw new Error(`the embedded database cannot lock its directory on ${process.platform}; set DATABASE_URL`);
  }
  const { symbols } = dlopen(platform.lib, {
    flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    [platform.errno]: { args: [], returns: FFIType.ptr },
  });
  const errnoLocation = symbols[platform.errno];
  libc = {
    flock: (fd, operation) => symbols.flock(fd, operation),
    errno: () => {
      const pointer = errnoLocation?.();
      return pointer == null ? 0 : read.i32(pointer, 0);
    },
  };
  return libc;
}

/**
 * Takes the data directory for this process, creating it if needed, or throws
 * at once (never waits) when another process holds it.
 */
export function lockDataDir(dir: string): DataDirLock {
  const c = loadLibc();
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "minitwit.lock");
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o600);
  if (c.flock(fd, LOCK_EX | LOCK_NB) !== 0) {
    const errno = c.errno();
    closeSync(fd);
    if (errno === PLATFORMS[process.platform]?.wouldBlock) throw new Error(inUseMessage(dir, path));
    throw new Error(`cannot lock ${path} (errno ${errno})`);
  }
  ftruncateSync(fd, 0);
  writeSync(fd, `${process.pid}\n`, 0);
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      // Emptied while still held, so no reader sees a PID that has let go.
      ftruncateSync(fd, 0);
      closeSync(fd);
    },
  };
}

function inUseMessage(dir: string, path: string): string {
  const pid = holderPid(path);
  const holder = pid === null ? "another process" : `process ${pid}${commandOf(pid)}`;
  return (
    `the embedded database in ${dir} is in use by ${holder}; ` +
    "stop it first, or set DATABASE_URL to share a PostgreSQL between processes"
  );
}

function holderPid(path: string): number | null {
  try {
    const pid = Number(readFileSync(path, "utf8").trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * " (minitwit serve)" where /proc tells what the process runs, else nothing.
 * Only the words before the first option: an option may carry a secret.
 */
function commandOf(pid: number): string {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    const end = argv.findIndex((arg) => arg.startsWith("-"));
    const words = end === -1 ? argv : argv.slice(0, end);
    return words.length === 0 ? "" : ` (${words.join(" ")})`;
  } catch {
    return "";
  }
}
