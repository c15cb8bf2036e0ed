// IPv4 ranges (CIDR) for Service virtual IPs: parsing, checking, and address arithmetic.

export interface Ipv4Range {
  /** The first address as an unsigned 32-bit number. */
  readonly base: number;
  readonly prefixLength: number;
  /** Addresses in the range. */
  readonly size: number;
}

/** `a.b.c.d` as an unsigned 32-bit number, or undefined when it is not a dotted IPv4 address. */
export function ipv4ToNumber(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

export function numberToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Parses `a.b.c.d/len`; the reason when it is not a usable range. */
export function parseIpv4Range(text: string): { ok: true; value: Ipv4Range } | { ok: false; reason: string } {
  const [ip, len, more] = text.split('/');
  const base = ipv4ToNumber(ip ?? '');
  if (base === undefined || len === undefined || more !== undefined || !/^\d{1,2}$/.test(len)) {
    return { ok: false, reason: `must be an IPv4 range in CIDR form such as "240.240.0.0/16", got ${JSON.stringify(text)}` };
  }
  const prefixLength = Number(len);
  if (prefixLength < 8 || prefixLength > 30) return { ok: false, reason: `prefix length must be 8..30, got ${JSON.stringify(text)}` };
  const size = 2 ** (32 - prefixLength);
  if (base % size !== 0) {
    const first = numberToIpv4(base - (base % size));
    return { ok: false, reason: `${ip} is not the first address of a /${prefixLength} (${first}/${prefixLength})` };
  }
  return { ok: true, value: { base, prefixLength, size } };
}

/** The field check for MeshConfig.spec.virtualIpRange (undefined when valid). */
export function checkVirtualIpRange(text: string): string | undefined {
  const r = parseIpv4Range(text);
  return r.ok ? undefined : r.reason;
}

/** True when `address` (dotted IPv4) lies in `range`. */
export function inRange(range: Ipv4Range, address: string): boolean {
  const n = ipv4ToNumber(address);
  return n !== undefined && n >= range.base && n < range.base + range.size;
}
