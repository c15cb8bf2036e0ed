// The iptables and ip6tables rules of transparent capture, as plain argument lists (pure, so
// they are tested without root): outbound TCP to the proxy's outbound port, inbound TCP to its
// inbound port, DNS (UDP 53) to its DNS port, the proxy's own traffic (by user or group id) and
// loopback exempt. IPv6 gets the same TCP rules as IPv4, so an application listening on `::`
// is no easier to reach around its proxy than one on `0.0.0.0`.
import { isIP } from 'node:net';

/** Chains Trellis owns in the nat table; nothing else is touched but one jump from each built-in chain. */
export const CHAINS = { inbound: 'TRELLIS_INBOUND', output: 'TRELLIS_OUTPUT', dns: 'TRELLIS_DNS' } as const;

/** Which table set a rule list is for: 4 for iptables, 6 for ip6tables. */
export type IpFamily = 4 | 6;

export interface CaptureSpec {
  /** The proxy's inbound capture port (e.g. 15006). */
  inboundPort: number;
  /** The proxy's outbound capture port (e.g. 15001). */
  outboundPort: number;
  /** The proxy's DNS port (UDP); omitted: DNS is not redirected. */
  dnsPort?: number;
  /** Traffic of processes with these user ids is not captured (the proxy's own). */
  proxyUids: number[];
  /** Traffic of processes with these group ids is not captured (the proxy's own). */
  proxyGids: number[];
  /** Inbound destination ports that are not captured (e.g. 22), over IPv4 and IPv6. */
  excludeInboundPorts: number[];
  /** Outbound destination ports that are not captured, over IPv4 and IPv6. */
  excludeOutboundPorts: number[];
  /** Outbound destination ranges that are not captured (IPv4 or IPv6 CIDR; each goes to its own family's rules). */
  excludeOutboundCidrs: string[];
}

/** Every problem of `spec`, each naming the field; empty when it is valid. */
export function checkCaptureSpec(spec: CaptureSpec): string[] {
  const problems: string[] = [];
  const port = (v: number, what: string) => {
    if (!Number.isInteger(v) || v < 1 || v > 65535) problems.push(`${what}: must be an integer from 1 to 65535, got ${JSON.stringify(v)}`);
  };
  port(spec.inboundPort, 'inboundPort');
  port(spec.outboundPort, 'outboundPort');
  if (spec.dnsPort !== undefined) port(spec.dnsPort, 'dnsPort');
  if (spec.inboundPort === spec.outboundPort) problems.push(`inboundPort and outboundPort must differ, both are ${spec.inboundPort}`);
  spec.excludeInboundPorts.forEach((p, i) => port(p, `excludeInboundPorts[${i}]`));
  spec.excludeOutboundPorts.forEach((p, i) => port(p, `excludeOutboundPorts[${i}]`));
  const id = (v: number, what: string) => {
    if (!Number.isInteger(v) || v < 0 || v > 4294967294) problems.push(`${what}: must be a user or group id (an integer >= 0), got ${JSON.stringify(v)}`);
  };
  spec.proxyUids.forEach((v, i) => id(v, `proxyUids[${i}]`));
  spec.proxyGids.forEach((v, i) => id(v, `proxyGids[${i}]`));
  if (spec.proxyUids.length + spec.proxyGids.length === 0) problems.push('proxyUids, proxyGids: at least one is required, or the proxy would capture its own traffic');
  spec.excludeOutboundCidrs.forEach((c, i) => {
    if (cidrFamily(c) === undefined) problems.push(`excludeOutboundCidrs[${i}]: must be an IPv4 or IPv6 CIDR such as 10.0.0.0/8 or fd00::/8, got ${JSON.stringify(c)}`);
  });
  return problems;
}

/** The family of CIDR `c` (`10.0.0.0/8`, `fd00::/8`); undefined when it is not one. */
export function cidrFamily(c: string): IpFamily | undefined {
  const [ip, len, more] = c.split('/');
  const family = isIP(ip ?? '');
  const bits = Number(len);
  if (more !== undefined || family === 0 || len === undefined || !/^\d{1,3}$/.test(len) || bits > (family === 4 ? 32 : 128)) return undefined;
  return family as IpFamily;
}

/** The jumps from built-in chains into ours: `[chain, ...match]` for `ip[6]tables -t nat -A/-D/-C`. */
export function jumpRules(spec: CaptureSpec, family: IpFamily = 4): string[][] {
  const jumps = [
    ['PREROUTING', '-p', 'tcp', '-j', CHAINS.inbound],
    ['OUTPUT', '-p', 'tcp', '-j', CHAINS.output],
  ];
  if (hasDns(spec, family)) jumps.push(['OUTPUT', '-p', 'udp', '--dport', '53', '-j', CHAINS.dns]);
  return jumps;
}

/** The chains of `family` that jumpRules and chainRules use. */
export function chainNames(spec: CaptureSpec, family: IpFamily = 4): string[] {
  return hasDns(spec, family) ? Object.values(CHAINS) : [CHAINS.inbound, CHAINS.output];
}

/**
 * DNS is redirected over IPv4 only: the proxy's DNS responder listens on 127.0.0.1, which an
 * IPv6 REDIRECT (to ::1) cannot reach. A query to an IPv6 nameserver goes out uncaptured; it
 * carries no mesh traffic (the TCP that follows is captured either way).
 */
function hasDns(spec: CaptureSpec, family: IpFamily): boolean {
  return spec.dnsPort !== undefined && family === 4;
}

/** The rules inside our chains, in order: `[chain, ...rule]` for `ip[6]tables -t nat -A`. */
export function chainRules(spec: CaptureSpec, family: IpFamily = 4): string[][] {
  const rules: string[][] = [];
  const exempt = (chain: string) => {
    for (const uid of spec.proxyUids) rules.push([chain, '-m', 'owner', '--uid-owner', String(uid), '-j', 'RETURN']);
    for (const gid of spec.proxyGids) rules.push([chain, '-m', 'owner', '--gid-owner', String(gid), '-j', 'RETURN']);
  };
  for (const p of spec.excludeInboundPorts) rules.push([CHAINS.inbound, '-p', 'tcp', '--dport', String(p), '-j', 'RETURN']);
  rules.push([CHAINS.inbound, '-p', 'tcp', '-j', 'REDIRECT', '--to-ports', String(spec.inboundPort)]);
  exempt(CHAINS.output);
  // Loopback (127.0.0.0/8 and ::1, and the pod's own address over lo) goes straight to its destination.
  rules.push([CHAINS.output, '-o', 'lo', '-j', 'RETURN']);
  for (const c of spec.excludeOutboundCidrs) if (cidrFamily(c) === family) rules.push([CHAINS.output, '-d', c, '-j', 'RETURN']);
  for (const p of spec.excludeOutboundPorts) rules.push([CHAINS.output, '-p', 'tcp', '--dport', String(p), '-j', 'RETURN']);
  rules.push([CHAINS.output, '-p', 'tcp', '-j', 'REDIRECT', '--to-ports', String(spec.outboundPort)]);
  if (hasDns(spec, family)) {
    exempt(CHAINS.dns);
    rules.push([CHAINS.dns, '-p', 'udp', '--dport', '53', '-j', 'REDIRECT', '--to-ports', String(spec.dnsPort)]);
  }
  return rules;
}
