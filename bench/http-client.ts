// A minimal HTTP/1.1 client over raw TCP for the benchmarks. The load
// generator shares the machine with the server and the database, so every
// microsecond it spends is taken from what it measures: writing the request
// bytes directly and parsing only the status line, the headers and the body
// framing costs about a third less CPU per request than fetch(). One instance
// is one client: one request at a time, on one kept-alive connection, or on a
// new connection per request with `Connection: close` (as the simulator does).
import type { Socket } from "bun";

export interface HttpResponse {
  readonly status: number;
  /** The raw header block (for Set-Cookie and the like). */
  readonly headers: string;
  readonly body: Buffer;
}

interface Pending {
  resolve(response: HttpResponse): void;
  reject(error: Error): void;
}

const HEADER_END = Buffer.from("\r\n\r\n");

export class HttpClient {
  private socket: Socket | null = null;
  private buffer: Buffer = Buffer.alloc(0);
  private pending: Pending | null = null;
  private readonly host: string;
  private readonly port: number;

  constructor(
    base: string,
    private readonly keepAlive: boolean,
  ) {
    const url = new URL(base);
    this.host = url.hostname;
    this.port = Number(url.port || 80);
  }

  /** Sends one request; `headers` is a preformatted block of "Name: value\r\n" lines. */
  async request(method: string, path: string, headers = "", body?: string): Promise<HttpResponse> {
    const payload = body === undefined ? "" : body;
    const length = body === undefined ? "" : `Content-Length: ${Buffer.byteLength(payload)}\r\n`;
    const connection = this.keepAlive ? "" : "Connection: close\r\n";
    const head = `${method} ${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\n${headers}${length}${connection}\r\n`;
    const socket = this.socket ?? (await this.connect());
    return new Promise<HttpResponse>((resolve, reject) => {
      this.pending = { resolve, reject };
      this.buffer = Buffer.alloc(0);
      const bytes = Buffer.from(head + payload);
      const written = socket.write(bytes);
      // Requests are small; a short write only happens under socket pressure.
      if (written < bytes.length) socket.write(bytes.subarray(Math.max(written, 0)));
    });
  }

  close(): void {
    this.socket?.end();
    this.socket = null;
  }

  private async connect(): Promise<Socket> {
    const socket = await Bun.connect({
      hostname: this.host,
      port: this.port,
      // Events of a connection already given up (closed after its response)
      // must not touch the current one.
      socket: {
        data: (s, data) => {
          if (s === this.socket) this.onData(data);
        },
        close: (s) => {
          if (s === this.socket) this.onClose();
        },
        error: (s, error) => {
          if (s === this.socket) this.fail(error);
        },
        // The rejected connect() reports it to the caller.
        connectError: () => {},
      },
    });
    socket.setNoDelay(true);
    this.socket = socket;
    return socket;
  }

  private onData(data: Buffer): void {
    this.buffer = this.buffer.length === 0 ? data : Buffer.concat([this.buffer, data]);
    const parsed = parseResponse(this.buffer, false);
    if (parsed !== null) this.finish(parsed.response, parsed.close);
  }

  private onClose(): void {
    this.socket = null;
    if (this.pending === null) return;
    // A response without a length ends with the connection.
    const parsed = this.buffer.length > 0 ? parseResponse(this.buffer, true) : null;
    if (parsed !== null) this.finish(parsed.response, true);
    else this.fail(new Error("connection closed before a complete response"));
  }

  private finish(response: HttpResponse, serverCloses: boolean): void {
    const pending = this.pending;
    this.pending = null;
    this.buffer = Buffer.alloc(0);
    if (!this.keepAlive || serverCloses) this.close();
    pending?.resolve(response);
  }

  private fail(error: Error): void {
    const pending = this.pending;
    this.pending = null;
    this.socket = null;
    pending?.reject(error);
  }
}

/** A complete response at the start of `buffer`, or null while more bytes are due. */
function parseResponse(buffer: Buffer, atEof: boolean): { response: HttpResponse; close: boolean } | null {
  const end = buffer.indexOf(HEADER_END);
  if (end === -1) return null;
  const head = buffer.toString("latin1", 0, end);
  const status = Number(head.slice(9, 12));
  const headers = head.slice(head.indexOf("\r\n") + 2);
  const lower = headers.toLowerCase();
  const close = /(^|\r\n)connection:\s*close/.test(lower);
  const start = end + 4;
  const length = /(^|\r\n)content-length:\s*(\d+)/.exec(lower);
  if (length !== null) {
    const stop = start + Number(length[2]);
    if (buffer.length < stop) return null;
    return { response: { status, headers, body: buffer.subarray(start, stop) }, close };
  }
  if (/(^|\r\n)transfer-encoding:\s*chunked/.test(lower)) {
    const body = dechunk(buffer, start);
    return body === null ? null : { response: { status, headers, body }, close };
  }
  // 204, 304 and friends carry no body; anything else runs to the end of the connection.
  if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
    return { response: { status, headers, body: Buffer.alloc(0) }, close };
  }
  if (!atEof) return null;
  return { response: { status, headers, body: buffer.subarray(start) }, close: true };
}

function dechunk(buffer: Buffer, from: number): Buffer | null {
  const parts: Buffer[] = [];
  let at = from;
  for (;;) {
    const lineEnd = buffer.indexOf("\r\n", at);
    if (lineEnd === -1) return null;
    const size = Number.parseInt(buffer.toString("latin1", at, lineEnd), 16);
    const dataStart = lineEnd + 2;
    // The last chunk: "0\r\n" and the empty line that ends the (unused) trailers.
    if (size === 0) return buffer.length < dataStart + 2 ? null : Buffer.concat(parts);
    if (buffer.length < dataStart + size + 2) return null;
    parts.push(buffer.subarray(dataStart, dataStart + size));
    at = dataStart + size + 2;
  }
}
