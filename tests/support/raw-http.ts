// One HTTP/1.1 request written byte for byte: fetch() cleans a path such as
// `/readyz/.` before sending it, and the attacks on path matching need it sent
// as typed.
import { connect } from "node:net";

export interface RawAnswer {
  readonly status: number;
  readonly text: string;
}

export function rawRequest(port: number, head: string, body = ""): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, "127.0.0.1", () => socket.write(`${head}\r\nConnection: close\r\n\r\n${body}`));
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer to ${head.split("\r\n")[0]}`)));
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString();
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0), text });
    });
  });
}

/** `GET <path>` exactly as given. */
export const rawGet = (port: number, path: string) => rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: localhost`);
