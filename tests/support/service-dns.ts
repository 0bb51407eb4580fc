// A stand-in for Docker Swarm's DNS for one service in endpoint_mode dnsrr:
// the service name resolves to the addresses of the tasks registered now.
// The test registers a replica once it is ready (Swarm: at its first passing
// HEALTHCHECK) and removes it when it stops or dies, as Swarm does. Caddy's
// `dynamic a` upstream asks it through its `resolvers` option.
import { createSocket, type RemoteInfo } from "node:dgram";

const TYPE_A = 1;
const CLASS_IN = 1;
// Caddy asks again on its own schedule (`refresh`); the TTL plays no part.
const TTL_S = 1;

export interface ServiceDns {
  /** For Caddy's `resolvers`: the network and address. */
  readonly resolver: string;
  register(ip: string): void;
  deregister(ip: string): void;
  stop(): void;
}

export async function startServiceDns(service: string): Promise<ServiceDns> {
  const tasks = new Set<string>();
  const socket = createSocket("udp4");
  socket.on("message", (query: Buffer, peer: RemoteInfo) => {
    const answer = answerQuery(query, service, [...tasks]);
    if (answer !== null) socket.send(answer, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return {
    resolver: `udp/127.0.0.1:${socket.address().port}`,
    register: (ip) => tasks.add(ip),
    deregister: (ip) => tasks.delete(ip),
    stop: () => socket.close(),
  };
}

/** The response to one query: A records for the service's name, nothing for other types, NXDOMAIN for other names. */
function answerQuery(query: Buffer, service: string, addresses: string[]): Buffer | null {
  if (query.length < 12) return null;
  const questionEnd = skipName(query, 12) + 4;
  if (questionEnd > query.length) return null;
  const name = readName(query, 12).toLowerCase();
  const type = query.readUInt16BE(questionEnd - 4);
  const known = name === service;
  const records = known && type === TYPE_A ? addresses : [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0); // the query's id
  // QR=1, opcode 0, AA=1, RD copied, RA=1; rcode 0 or 3 (NXDOMAIN).
  header.writeUInt16BE(0x8400 | (query.readUInt16BE(2) & 0x0100) | 0x0080 | (known ? 0 : 3), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(records.length, 6);
  const answers = records.map((ip) => {
    const record = Buffer.alloc(16);
    record.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    record.writeUInt16BE(TYPE_A, 2);
    record.writeUInt16BE(CLASS_IN, 4);
    record.writeUInt32BE(TTL_S, 6);
    record.writeUInt16BE(4, 10);
    ip.split(".").forEach((octet, i) => {
      record.writeUInt8(Number(octet), 12 + i);
    });
    return record;
  });
  return Buffer.concat([header, query.subarray(12, questionEnd), ...answers]);
}

function skipName(message: Buffer, offset: number): number {
  let at = offset;
  while (at < message.length && message[at] !== 0) at += (message[at] ?? 0) + 1;
  return at + 1;
}

function readName(message: Buffer, offset: number): string {
  const labels: string[] = [];
  for (let at = offset; at < message.length && message[at] !== 0; at += (message[at] ?? 0) + 1) {
    labels.push(message.subarray(at + 1, at + 1 + (message[at] ?? 0)).toString("latin1"));
  }
  return labels.join(".");
}
