// Backup encryption on its own: the frames decrypt to exactly what went in,
// and every way of changing the stream (a flipped bit, reordered, dropped,
// duplicated or foreign frames, a cut) is caught, as is a wrong key.
import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { checkEncryptionKey, decryptStream, ENCRYPTION_HEADER_SIZE, encryptStream } from "../src/backup/crypto";

const KEY = new Uint8Array(randomBytes(32));
const OTHER_KEY = new Uint8Array(randomBytes(32));
const FRAME = 64 * 1024;
const FRAME_OVERHEAD = 4 + 1 + 12 + 16;

async function* chunks(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of source) parts.push(part.slice());
  return new Uint8Array(Buffer.concat(parts));
}

const encrypt = (plain: Uint8Array, key = KEY, chunk = 10_000) => collect(encryptStream(chunks(plain, chunk), key));
const decrypt = (sealed: Uint8Array, key = KEY, chunk = 7_777) => collect(decryptStream(chunks(sealed, chunk), key));

/** The header and each frame of an encrypted stream, as separate byte ranges. */
function split(sealed: Uint8Array): { header: Uint8Array; frames: Uint8Array[] } {
  const frames: Uint8Array[] = [];
  let offset = ENCRYPTION_HEADER_SIZE;
  while (offset < sealed.length) {
    const length = new DataView(sealed.buffer, sealed.byteOffset + offset).getUint32(0);
    frames.push(sealed.subarray(offset, offset + length + FRAME_OVERHEAD));
    offset += length + FRAME_OVERHEAD;
  }
  return { header: sealed.subarray(0, ENCRYPTION_HEADER_SIZE), frames };
}

function join(...parts: (Uint8Array | undefined)[]): Uint8Array {
  return new Uint8Array(
    Buffer.concat(
      parts.map((part) => {
        if (part === undefined) throw new Error("the test stream has fewer frames than the case needs");
        return part;
      }),
    ),
  );
}

describe("round trip", () => {
  test.each([0, 1, FRAME - 1, FRAME, FRAME + 1, 3 * FRAME + 5])("%d bytes come back unchanged", async (size) => {
    const plain = new Uint8Array(randomBytes(size));
    const sealed = await encrypt(plain);
    expect(sealed.length).toBe(ENCRYPTION_HEADER_SIZE + Math.max(1, Math.ceil(size / FRAME)) * FRAME_OVERHEAD + size);
    expect(await decrypt(sealed)).toEqual(plain);
  });

  test("the same data encrypts differently every time (fresh stream id and nonces)", async () => {
    const plain = new Uint8Array(1000);
    expect(await encrypt(plain)).not.toEqual(await encrypt(plain));
  });
});

describe("refused", () => {
  const plain = new Uint8Array(randomBytes(3 * FRAME + 100));
  const sealedOnce = encrypt(plain);

  test("a wrong key, told apart from damage before anything is decrypted", async () => {
    const sealed = await sealedOnce;
    expect(checkEncryptionKey(sealed.subarray(0, ENCRYPTION_HEADER_SIZE), KEY)).toBe("ok");
    expect(checkEncryptionKey(sealed.subarray(0, ENCRYPTION_HEADER_SIZE), OTHER_KEY)).toBe("wrong-key");
    expect(checkEncryptionKey(plain.subarray(0, ENCRYPTION_HEADER_SIZE), KEY)).toBe("not-encrypted");
    await expect(decrypt(sealed, OTHER_KEY)).rejects.toThrow(/wrong encryption key/);
  });

  test("a flipped bit anywhere after the header fails authentication", async () => {
    const sealed = await sealedOnce;
    for (const at of [ENCRYPTION_HEADER_SIZE + 20, ENCRYPTION_HEADER_SIZE + FRAME, sealed.length - 1]) {
      const changed = sealed.slice();
      changed[at] = (changed[at] as number) ^ 0x80;
      await expect(decrypt(changed), `bit at ${at}`).rejects.toThrow(/failed authentication|corrupt header/);
    }
  });

  test.each([
    ["frames swapped", ({ header, frames: [a, b, c, d] }: Parts) => join(header, b, a, c, d)],
    ["a frame dropped", ({ header, frames: [a, , c, d] }: Parts) => join(header, a, c, d)],
    ["a frame repeated", ({ header, frames: [a, b, c, d] }: Parts) => join(header, a, a, b, c, d)],
    ["the final frame dropped", ({ header, frames: [a, b, c] }: Parts) => join(header, a, b, c)],
    ["cut inside a frame", ({ header, frames: [a, b] }: Parts) => join(header, a, (b as Uint8Array).subarray(0, 100))],
    ["bytes after the final frame", ({ header, frames }: Parts) => join(header, ...frames, new Uint8Array(5))],
  ])("%s", async (_, change) => {
    const sealed = await sealedOnce;
    await expect(decrypt(change(split(sealed)))).rejects.toThrow(/authentication|truncated|final encrypted frame/);
  });

  test("a frame from another backup made with the same key", async () => {
    const mine = split(await sealedOnce);
    const theirs = split(await encrypt(plain));
    const [a, , c, d] = mine.frames as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    const spliced = join(mine.header, a, theirs.frames[1] as Uint8Array, c, d);
    await expect(decrypt(spliced)).rejects.toThrow(/frame 1 failed authentication/);
  });
});

type Parts = { header: Uint8Array; frames: Uint8Array[] };
