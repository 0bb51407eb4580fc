// The object store behind backups, through Bun's S3 client: any
// S3-compatible service (AWS, MinIO, Ceph, Garage, R2 ...). Uploads stream
// through the multipart writer and downloads through a ReadableStream, so no
// object is ever held whole in memory. Every failure is rethrown with the
// operation and the object it was about.
import { S3Client } from "bun";
import type { Config } from "../config/settings";
import { ConfigError } from "../errors";

/** Multipart part size: S3's minimum; with a queue of 2 it bounds the upload's buffers to a few parts. */
const PART_SIZE = 5 * 1024 * 1024;

export interface BackupStore {
  readonly client: S3Client;
  readonly bucket: string;
  /** Key prefix without a trailing slash. */
  readonly prefix: string;
}

export interface StoredObject {
  readonly key: string;
  readonly size: number;
}

/** The configured store; a ConfigError naming every missing variable when it is not configured. */
export function requireS3(config: Config): BackupStore {
  const { s3 } = config;
  const missing = [
    s3.bucket === null ? "S3_BUCKET" : null,
    s3.accessKeyId === null ? "S3_ACCESS_KEY_ID (or AWS_ACCESS_KEY_ID)" : null,
    s3.secretAccessKey === null ? "S3_SECRET_ACCESS_KEY (or AWS_SECRET_ACCESS_KEY)" : null,
  ].filter((name) => name !== null);
  if (missing.length > 0) {
    throw new ConfigError(
      `backups need S3 settings: set ${missing.join(", ")} (and S3_ENDPOINT for a store other than AWS)`,
    );
  }
  const client = new S3Client({
    bucket: s3.bucket as string,
    accessKeyId: s3.accessKeyId as string,
    secretAccessKey: s3.secretAccessKey as string,
    ...(s3.endpoint === null ? {} : { endpoint: s3.endpoint }),
    ...(s3.region === null ? {} : { region: s3.region }),
  });
  return { client, bucket: s3.bucket as string, prefix: config.backupPrefix };
}

/** `s3://bucket/key`, for messages. */
export function objectUrl(store: BackupStore, key: string): string {
  return `s3://${store.bucket}/${key}`;
}

/** Every object under `prefix`, following continuation tokens. */
export async function listObjects(store: BackupStore, prefix: string): Promise<StoredObject[]> {
  const found: StoredObject[] = [];
  let continuationToken: string | undefined;
  do {
    const page = await attempt(`list ${objectUrl(store, prefix)}`, () =>
      store.client.list({ prefix, ...(continuationToken ? { continuationToken } : {}) }),
    );
    for (const object of page.contents ?? []) found.push({ key: object.key, size: object.size ?? 0 });
    continuationToken = page.isTruncated ? page.nextContinuationToken : undefined;
  } while (continuationToken !== undefined);
  return found;
}

/**
 * Streams `source` into the object `key` and returns the SHA-256 and size of
 * exactly the bytes sent. On any failure the multipart upload is aborted, so
 * a failed backup leaves no partial object behind.
 */
export async function uploadStream(
  store: BackupStore,
  key: string,
  source: AsyncIterable<Uint8Array>,
  type: string,
): Promise<{ sha256: string; size: number }> {
  const writer = store.client.file(key).writer({ partSize: PART_SIZE, queueSize: 2, retry: 3, type });
  const hasher = new Bun.CryptoHasher("sha256");
  let size = 0;
  const what = `upload ${objectUrl(store, key)}`;
  try {
    for await (const chunk of source) {
      hasher.update(chunk);
      size += chunk.length;
      // Waiting on a pending write is the backpressure that keeps memory flat.
      await attempt(what, async () => {
        const written = writer.write(chunk);
        if (typeof written !== "number") await written;
      });
    }
    await attempt(what, async () => {
      await writer.end();
    });
  } catch (err) {
    // The source's own errors (the database, the encryption) pass through as they are.
    await Promise.resolve(writer.end(err as Error)).catch(() => {});
    throw err;
  }
  return { sha256: hasher.digest("hex"), size };
}

/** The object's bytes as they arrive. */
export async function* downloadStream(store: BackupStore, key: string): AsyncGenerator<Uint8Array> {
  try {
    yield* store.client.file(key).stream();
  } catch (err) {
    throw wrap(`download ${objectUrl(store, key)}`, err);
  }
}

export async function writeText(store: BackupStore, key: string, text: string, type: string): Promise<void> {
  await attempt(`upload ${objectUrl(store, key)}`, () => store.client.write(key, text, { type }));
}

/** The object's text, or null when there is no such object. */
export async function readText(store: BackupStore, key: string): Promise<string | null> {
  try {
    return await store.client.file(key).text();
  } catch (err) {
    if ((err as { code?: string }).code === "NoSuchKey") return null;
    throw wrap(`download ${objectUrl(store, key)}`, err);
  }
}

export async function objectExists(store: BackupStore, key: string): Promise<boolean> {
  return attempt(`look up ${objectUrl(store, key)}`, () => store.client.exists(key));
}

/** Deletes an object; deleting one that is already gone succeeds (S3 semantics), so retries are safe. */
export async function deleteObject(store: BackupStore, key: string): Promise<void> {
  await attempt(`delete ${objectUrl(store, key)}`, () => store.client.delete(key));
}

async function attempt<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw wrap(what, err);
  }
}

function wrap(what: string, err: unknown): Error {
  const { code, message } = err as { code?: string; message?: string };
  const detail = [code, message].filter((part) => part !== undefined && part !== "").join(": ");
  return new Error(`S3 ${what} failed: ${detail || String(err)}`, { cause: err });
}
