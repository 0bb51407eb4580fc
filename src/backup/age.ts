// Backup encryption with age (https://age-encryption.org), through the
// `age-encryption` library by the format's author, so that Debian's `age -d`
// (or any age implementation) decrypts what MiniTwit writes. Backups are
// encrypted to public keys (recipients): the service that takes backups
// never holds a key that can read them; only restores need an identity.
//
// Both directions stream: the library encrypts and authenticates 64 KiB
// chunks (ChaCha20-Poly1305, STREAM construction) in a TransformStream, so
// neither side holds more than a chunk or two. A cut, reordered or modified
// chunk fails authentication, and a stream cut at a chunk boundary lacks the
// final-chunk flag and is refused too.
import { Readable } from "node:stream";
import { Decrypter, Encrypter } from "age-encryption";

export const AGE_SCHEME = "age";
/** The first bytes of every age file in binary (not armored) form. */
export const AGE_MAGIC = "age-encryption.org/v1\n";

export async function* encryptWithAge(
  source: AsyncIterable<Uint8Array>,
  recipients: readonly string[],
): AsyncGenerator<Uint8Array> {
  const encrypter = new Encrypter();
  for (const recipient of recipients) {
    try {
      encrypter.addRecipient(recipient);
    } catch (err) {
      throw new Error(`BACKUP_AGE_RECIPIENTS: "${recipient}" is not an age recipient`, { cause: err });
    }
  }
  yield* await encrypter.encrypt(webStream(source));
}

export async function* decryptWithAge(
  source: AsyncIterable<Uint8Array>,
  identities: readonly string[],
): AsyncGenerator<Uint8Array> {
  const plain = await openAge(source, identities);
  try {
    yield* plain;
  } catch (err) {
    throw new Error(`the encrypted backup failed authentication: it was modified or cut short (${message(err)})`, {
      cause: err,
    });
  }
}

/**
 * Reads only the age header and checks that one of the identities can
 * decrypt it, so a wrong key is reported before anything is loaded.
 */
export async function checkAgeIdentity(
  source: AsyncIterable<Uint8Array>,
  identities: readonly string[],
): Promise<void> {
  const plain = await openAge(source, identities);
  await plain.cancel();
}

async function openAge(source: AsyncIterable<Uint8Array>, identities: readonly string[]) {
  const decrypter = new Decrypter();
  for (const identity of identities) {
    try {
      decrypter.addIdentity(identity);
    } catch {
      // Never quote an identity, nor keep the library's error as the cause:
      // it quotes the identity whole, and a cause can reach a log line.
      throw new Error("BACKUP_AGE_IDENTITY_FILE holds something that is not an age identity");
    }
  }
  try {
    return await decrypter.decrypt(webStream(source));
  } catch (err) {
    const reason = message(err);
    if (/no identity matched/i.test(reason)) {
      throw new Error(
        "wrong age identity: none of the identities in BACKUP_AGE_IDENTITY_FILE can decrypt this backup " +
          "(it was encrypted to other recipients); nothing was restored",
        { cause: err },
      );
    }
    throw new Error(`the backup is not a valid age file or its header was modified (${reason})`, { cause: err });
  }
}

function webStream(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  return Readable.toWeb(Readable.from(source)) as ReadableStream<Uint8Array>;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
