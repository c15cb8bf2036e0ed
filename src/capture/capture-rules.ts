// The iptables rules of transparent capture, as plain argument lists (pure, so they are tested
// without root): outbound TCP to the proxy's outbound port, inbound TCP to its inbound port,
// DNS (UDP 53) to its DNS port, the proxy's own traffic (by user or group id) and loopback exempt.
import { isIP } from 'node:net';

/** Chains Trellis owns in the nat table; nothing else is touched but one jump from each built-in chain. */
export const CHAINS = { inbound: 'TRELLIS_INBOUND', output: 'TRELLIS_OUTPUT', dns: 'TRELLIS_DNS' } as const;

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
  /** Inbound destination ports that are not captured (e.g. 22). */
  excludeInboundPorts: number[];
  /** Outbound destination ports that are not captured. */
  excludeOutboundPorts: number[];
  /** Outbound destination ranges that are not captured (CIDR). */
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
    const [ip, len, more] = c.split('/');
    const bits = Number(len);
    if (more !== undefined || isIP(ip ?? '') !== 4 || !Number.isInteger(bits) || bits < 0 || bits > 32) problems.push(`excludeOutboundCidrs[${i}]: must be an IPv4 CIDR such as 10.0.0.0/8, got ${JSON.stringify(c)}`);
  });
  return problems;
}

/** The jumps from built-in chains into ours: `[chain, ...match]` for `iptables -t nat -A/-D/-C`. */
export function jumpRules(spec: CaptureSpec): string[][] {
  const jumps = [
    ['PREROUTING', '-p', 'tcp', '-j', CHAINS.inbound],
    ['OUTPUT', '-p', 'tcp', '-j', CHAINS.output],
  ];
  if (spec.dnsPort !== undefined) jumps.push(['OUTPUT', '-p', 'udp', '--dport', '53', '-j', CHAINS.dns]);
  return jumps;
}

/** The rules inside our chains, in order: `[chain, ...rule]` for `iptables -t nat -A`. */
export function chainRules(spec: CaptureSpec): string[][] {
  const rules: string[][] = [];
  const exempt = (chain: string) => {
    for (const uid of spec.proxyUids) rules.push([chain, '-m', 'owner', '--uid-owner', String(uid), '-j', 'RETURN']);
    for (const gid of spec.proxyGids) rules.push([chain, '-m', 'owner', '--gid-owner', String(gid), '-j', 'RETURN']);
  };
  for (const p of spec.excludeInboundPorts) rules.push([CHAINS.inbound, '-p', 'tcp', '--dport', String(p), '-j', 'RETURN']);
  rules.push([CHAINS.inbound, '-p', 'tcp', '-j', 'REDIRECT', '--to-ports', String(spec.inboundPort)]);
  exempt(CHAINS.output);
  // Loopback (127.0.0.0/8, and the pod's own address over lo) goes straight to its destination.
  rules.push([CHAINS.output, '-o', 'lo', '-j', 'RETURN']);
  for (const c of spec.excludeOutboundCidrs) rules.push([CHAINS.output, '-d', c, '-j', 'RETURN']);
  for (const p of spec.excludeOutboundPorts) rules.push([CHAINS.output, '-p', 'tcp', '--dport', String(p), '-j', 'RETURN']);
  rules.push([CHAINS.output, '-p', 'tcp', '-j', 'REDIRECT', '--to-ports', String(spec.outboundPort)]);
  if (spec.dnsPort !== undefined) {
    exempt(CHAINS.dns);
    rules.push([CHAINS.dns, '-p', 'udp', '--dport', '53', '-j', 'REDIRECT', '--to-ports', String(spec.dnsPort)]);
  }
  return rules;
}
