// Where backups are kept. One interface, two places: an S3-compatible object
// store (targets/s3.ts) and a local directory (targets/file.ts), so that
// backing up, listing, retention and restoring are each written once, for
// both. Keys are "/"-separated names below the target's root; a target never
// holds an object whole in memory.

export interface StoredObject {
  readonly key: string;
  readonly size: number;
}

export interface BackupTarget {
  /** The key prefix the target's backups live under, without a trailing slash ("" for a directory). */
  readonly prefix: string;
  /** Where a key is, for messages: `s3://bucket/key`, or a file's path. */
  where(key: string): string;
  /** Every object whose key starts with `prefix`. */
  list(prefix: string): Promise<StoredObject[]>;
  /** Stores `payload` under `key`, streaming; on failure nothing is left under `key`. */
  put(key: string, payload: AsyncIterable<Uint8Array>, type: string): Promise<void>;
  /** The object's bytes as they are read. */
  get(key: string): AsyncIterable<Uint8Array>;
  exists(key: string): Promise<boolean>;
  /** Deletes an object; deleting one that is already gone succeeds, so retries are safe. */
  delete(key: string): Promise<void>;
  /** The object's text, or null when there is no such object. */
  readText(key: string): Promise<string | null>;
  writeText(key: string, text: string, type: string): Promise<void>;
}

/** `err`'s message, for wrapping it with the operation and the object it was about. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
