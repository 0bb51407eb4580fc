// s3rver answers a PUT once the body has passed its checksum stream, before
// the file holding the object is fully written, so a GET right after the PUT
// can read a short object. Real S3 reads its own writes; pgBackRest relies on
// that (it writes backup.info and reads it back at once, and fails on a
// truncated, encrypted file with "cipher header missing"). Importing this
// makes s3rver's PUT wait until the whole object is on disk.
import { stat } from "node:fs/promises";
// @ts-expect-error s3rver ships no type declarations; the part used here is typed below.
import FilesystemStoreUntyped from "s3rver/lib/stores/filesystem";

interface PutObject {
  bucket: string;
  key: string;
}
interface Store {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putObject(object: PutObject): Promise<{ size: number; md5: string }>;
}
const store = (FilesystemStoreUntyped as { prototype: Store }).prototype;
const putObject = store.putObject;

store.putObject = async function (this: Store, object: PutObject) {
  const result = await putObject.call(this, object);
  const path = this.getResourcePath(object.bucket, object.key, "object");
  // Bounded: a later PUT of the same key may have replaced the file meanwhile.
  const deadline = Date.now() + 2_000;
  while ((await stat(path)).size < result.size && Date.now() < deadline) await Bun.sleep(2);
  return result;
};
