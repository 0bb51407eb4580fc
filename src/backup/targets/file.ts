// Backups as local files: `minitwit backup --output PATH` and `minitwit
// restore --file PATH`, a directory as a target whose keys are file names.
// A file is written under a temporary name and renamed once complete, so an
// interrupted backup never leaves a file that looks finished. Standard
// output is a target too, for `--output -`: it holds one payload and no
// manifest.
import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { type BackupTarget, messageOf, type StoredObject } from "../target";

/** The directory `dir` as a backup target. */
export function fileTarget(dir: string): BackupTarget {
  const path = (key: string) => join(dir, key);
  return {
    prefix: "",
    where: path,
    async list(under) {
      const names = await readdir(dir).catch((err) => failed(`cannot list ${dir}`, err));
      const found: StoredObject[] = [];
      for (const name of names.filter((n) => n.startsWith(under))) {
        const info = await stat(path(name)).catch(() => null);
        if (info?.isFile()) found.push({ key: name, size: info.size });
      }
      return found;
    },
    async put(key, payload) {
      const partial = `${path(key)}.partial`;
      try {
        await pipeInto(createWriteStream(partial, { flags: "wx" }), payload, true);
        await rename(partial, path(key));
      } catch (err) {
        await rm(partial, { force: true });
        throw writeFailed(path(key), err);
      }
    },
    async *get(key) {
      try {
        for await (const chunk of createReadStream(path(key))) yield chunk as Uint8Array;
      } catch (err) {
        failed(`cannot read ${path(key)}`, err);
      }
    },
    exists: (key) => Bun.file(path(key)).exists(),
    delete: (key) => rm(path(key), { force: true }),
    async readText(key) {
      const file = Bun.file(path(key));
      return (await file.exists()) ? file.text() : null;
    },
    async writeText(key, text) {
      await Bun.write(path(key), text).catch((err) => failed(`cannot write ${path(key)}`, err));
    },
  };
}

/** Standard output as a target for one payload: nothing else is stored, read or listed. */
export function stdoutTarget(): BackupTarget {
  const refuse = (): never => {
    throw new Error("standard output holds one backup and nothing else");
  };
  return {
    prefix: "",
    where: () => "stdout",
    list: refuse,
    async put(_key, payload) {
      await pipeInto(process.stdout, payload, false).catch((err) => {
        throw writeFailed("stdout", err);
      });
    },
    get: refuse,
    exists: refuse,
    delete: refuse,
    readText: refuse,
    writeText: refuse,
  };
}

async function pipeInto(target: Writable, payload: AsyncIterable<Uint8Array>, close: boolean): Promise<void> {
  try {
    for await (const chunk of payload) {
      // Waiting for "drain" is the backpressure that keeps memory flat.
      if (!target.write(chunk)) await once(target, "drain");
    }
    if (close) {
      target.end();
      await finished(target);
    }
  } catch (err) {
    if (close) target.destroy();
    throw err;
  }
}

/** The payload's own errors (the database, the encryption) pass through as they are; the file's are named. */
function writeFailed(where: string, err: unknown): unknown {
  if (typeof (err as { code?: unknown }).code !== "string") return err;
  return new Error(`writing the backup to ${where} failed: ${messageOf(err)}`, { cause: err });
}

function failed(what: string, err: unknown): never {
  throw new Error(`${what}: ${messageOf(err)}`, { cause: err });
}
