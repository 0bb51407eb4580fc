// Backups in an S3-compatible object store (AWS, MinIO, Ceph, Garage, R2 ...)
// through Bun's S3 client. Uploads stream through the multipart writer and
// downloads through a ReadableStream, so no object is ever held whole in
// memory. Every failure is rethrown with the operation and the object it
// was about.
import { S3Client } from "bun";
import type { BackupSettings } from "../../config/settings";
import { ConfigError } from "../../errors";
import type { BackupTarget, StoredObject } from "../target";

/** Multipart part size: S3's minimum; with a queue of 2 it bounds the upload's buffers to a few parts. */
const PART_SIZE = 5 * 1024 * 1024;

/** The configured store; a ConfigError naming every missing variable when it is not configured. */
export function requireS3(config: BackupSettings): BackupTarget {
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
  return s3Target(client, s3.bucket as string, config.backupPrefix);
}

function s3Target(client: S3Client, bucket: string, prefix: string): BackupTarget {
  const where = (key: string) => `s3://${bucket}/${key}`;
  const attempt = async <T>(what: string, key: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      throw wrap(`${what} ${where(key)}`, err);
    }
  };
  return {
    prefix,
    where,
    async list(under) {
      const found: StoredObject[] = [];
      let continuationToken: string | undefined;
      do {
        const page = await attempt("list", under, () =>
          client.list({ prefix: under, ...(continuationToken ? { continuationToken } : {}) }),
        );
        for (const object of page.contents ?? []) found.push({ key: object.key, size: object.size ?? 0 });
        continuationToken = page.isTruncated ? page.nextContinuationToken : undefined;
      } while (continuationToken !== undefined);
      return found;
    },
    async put(key, payload, type) {
      // On any failure the multipart upload is aborted: no partial object is left.
      const writer = client.file(key).writer({ partSize: PART_SIZE, queueSize: 2, retry: 3, type });
      try {
        for await (const chunk of payload) {
          // Waiting on a pending write is the backpressure that keeps memory flat.
          await attempt("upload", key, async () => {
            const written = writer.write(chunk);
            if (typeof written !== "number") await written;
          });
        }
        await attempt("upload", key, async () => {
          await writer.end();
        });
      } catch (err) {
        // The payload's own errors (the database, the encryption) pass through as they are.
        await Promise.resolve(writer.end(err as Error)).catch(() => {});
        throw err;
      }
    },
    async *get(key) {
      try {
        yield* client.file(key).stream();
      } catch (err) {
        throw wrap(`download ${where(key)}`, err);
      }
    },
    exists: (key) => attempt("look up", key, () => client.exists(key)),
    delete: (key) => attempt("delete", key, () => client.delete(key)),
    async readText(key) {
      try {
        return await client.file(key).text();
      } catch (err) {
        if ((err as { code?: string }).code === "NoSuchKey") return null;
        throw wrap(`download ${where(key)}`, err);
      }
    },
    async writeText(key, text, type) {
      await attempt("upload", key, () => client.write(key, text, { type }));
    },
  };
}

function wrap(what: string, err: unknown): Error {
  const { code, message } = err as { code?: string; message?: string };
  const detail = [code, message].filter((part) => part !== undefined && part !== "").join(": ");
  return new Error(`S3 ${what} failed: ${detail || String(err)}`, { cause: err });
}
