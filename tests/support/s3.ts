// A real S3 protocol endpoint for the tests: s3rver in-process, on a free
// port, storing objects in a temporary directory. Each test uses its own
// BACKUP_PREFIX so tests sharing a server never see each other's backups.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { S3Client } from "bun";
// @ts-expect-error s3rver ships no type declarations; the part used here is typed below.
import S3rverUntyped from "s3rver";

interface S3rverOptions {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string; configs: string[] }[];
}
const S3rver = S3rverUntyped as new (
  options: S3rverOptions,
) => { run(): Promise<{ port: number }>; close(): Promise<void> };

export const TEST_BUCKET = "minitwit-backups";

export interface TestS3 {
  readonly endpoint: string;
  /** A raw client on the bucket, for tests that inspect or tamper with objects. */
  readonly client: S3Client;
  /** The environment that points MiniTwit at this server, under `prefix`. */
  env(prefix: string): Record<string, string>;
  stop(): Promise<void>;
}

export async function startS3(): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), "minitwit-s3-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: TEST_BUCKET, configs: [] }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  // s3rver accepts these fixed credentials and checks the signatures made with them.
  const credentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
  return {
    endpoint,
    client: new S3Client({ endpoint, bucket: TEST_BUCKET, region: "us-east-1", ...credentials }),
    env: (prefix) => ({
      S3_ENDPOINT: endpoint,
      S3_BUCKET: TEST_BUCKET,
      S3_REGION: "us-east-1",
      S3_ACCESS_KEY_ID: credentials.accessKeyId,
      S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      BACKUP_PREFIX: prefix,
    }),
    stop: async () => {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** Every key under `prefix/`, sorted. */
export async function keysUnder(client: S3Client, prefix: string): Promise<string[]> {
  const listed = await client.list({ prefix: `${prefix}/` });
  return (listed.contents ?? []).map((o) => o.key).sort();
}
