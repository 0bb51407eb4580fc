// IPv4/IPv6 address ranges in CIDR notation, for TRUSTED_PROXIES and other
// allow-lists. Addresses are compared as 128-bit integers; IPv4 addresses and
// IPv4-mapped IPv6 addresses (::ffff:1.2.3.4) are the same address.

export interface Cidr {
  readonly text: string;
  readonly base: bigint;
  readonly mask: bigint;
}

const ALL = (1n << 128n) - 1n;

/** Parses `1.2.3.0/24`, `10.0.0.1`, `fd00::/8`; null when not a range. */
export function parseCidr(text: string): Cidr | null {
  const [addr, bits, extra] = text.trim().split("/");
  if (addr === undefined || extra !== undefined) return null;
  const ip = parseIp(addr);
  if (ip === null) return null;
  const v4 = !addr.includes(":");
  const max = v4 ? 32 : 128;
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : Number.NaN;
  if (!(prefix >= 0 && prefix <= max)) return null;
  const hostBits = BigInt(max - prefix);
  const mask = ALL ^ ((1n << hostBits) - 1n);
  return { text: text.trim(), base: ip & mask, mask };
}

export function inRanges(address: string, ranges: readonly Cidr[]): boolean {
  const ip = parseIp(address);
  if (ip === null) return false;
  return ranges.some((r) => (ip & r.mask) === r.base);
}

/** An address as a 128-bit integer (IPv4 mapped into ::ffff:0:0/96); null when invalid. */
export function parseIp(text: string): bigint | null {
  const addr = text.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  if (!addr.includes(":")) {
    const v4 = parseV4(addr);
    return v4 === null ? null : 0xffff00000000n | v4;
  }
  let head = addr;
  let tailV4: bigint | null = null;
  const lastColon = addr.lastIndexOf(":");
  if (addr.slice(lastColon + 1).includes(".")) {
    tailV4 = parseV4(addr.slice(lastColon + 1));
    if (tailV4 === null) return null;
    head = `${addr.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split("::");
  if (halves.length > 2) return null;
  const groups = (s: string | undefined) => (s === undefined || s === "" ? [] : s.split(":"));
  const left = groups(halves[0]);
  const right = groups(halves[1]);
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...left, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...right];
  let value = 0n;
  for (const g of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    value = (value << 16n) | BigInt(Number.parseInt(g, 16));
  }
  return tailV4 === null ? value : (value & ~0xffffffffn) | tailV4;
}

function parseV4(text: string): bigint | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    value = (value << 8n) | BigInt(p);
  }
  return value;
}
