// The proxy's DNS responder (transparent mode): iptables sends the workload's DNS queries
// (UDP 53) here. Mesh names (`payments.mesh`, `payments.default.svc`, ...) are answered with
// the Service's virtual IP; every other query is forwarded as is to the upstream resolver.
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import dnsPacket from 'dns-packet';
import type { Logger } from '../../common/log.js';
import type { RuntimeConfig } from '../config/runtime-config.js';

/** TTL of mesh answers: short, so a re-allocated virtual IP is picked up soon. */
const MESH_TTL_SECONDS = 5;
const FORWARD_TIMEOUT_MS = 2000;

/** Mesh name (lower case, no trailing dot) -> virtual IP, from the clusters of `config`. */
export function meshNames(config: RuntimeConfig): Map<string, string> {
  const names = new Map<string, string>();
  for (const c of config.clusters.values()) {
    if (!c.virtualIp) continue;
    for (const n of c.virtualIp.names) names.set(n.toLowerCase(), c.virtualIp.address);
  }
  return names;
}

/** The first `nameserver` of a resolv.conf text, as `address:53`; undefined when there is none. */
export function upstreamFromResolvConf(text: string): { address: string; port: number } | undefined {
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m && isIP(m[1]!) !== 0) return { address: m[1]!, port: 53 };
  }
  return undefined;
}

/** The answer to `query` from `names`, or undefined when the query is not for a mesh name (forward it). */
export function answerFromMesh(query: dnsPacket.Packet, names: ReadonlyMap<string, string>): Buffer | undefined {
  const q = query.questions?.[0];
  if (!q || query.questions!.length !== 1) return undefined;
  const name = q.name.toLowerCase().replace(/\.$/, '');
  const vip = names.get(name);
  if (vip === undefined) return undefined;
  const answers: dnsPacket.Answer[] =
    q.type === 'A' && isIP(vip) === 4
      ? [{ type: 'A', name: q.name, ttl: MESH_TTL_SECONDS, data: vip }]
      : q.type === 'AAAA' && isIP(vip) === 6
        ? [{ type: 'AAAA', name: q.name, ttl: MESH_TTL_SECONDS, data: vip }]
        : [];
  // Other types (AAAA for an IPv4 VIP, MX, ...) get NOERROR without records: the name exists.
  return dnsPacket.encode({
    type: 'response',
    id: query.id ?? 0,
    flags: dnsPacket.AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED) | dnsPacket.RECURSION_AVAILABLE,
    questions: [q],
    answers,
  });
}

export interface DnsResponderOptions {
  port: number;
  /** Mesh names now (read per query; the sidecar keeps it current with the config). */
  names: () => ReadonlyMap<string, string>;
  /** Where other names go; default: the first nameserver of /etc/resolv.conf. */
  upstream?: { address: string; port: number };
  logger?: Logger;
}

export interface DnsResponder {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Starts the responder on 127.0.0.1:port (UDP), where iptables redirects DNS: bound there, its
 * answers leave from 127.0.0.1, which is what the kernel's connection tracking maps back to the
 * resolver the application asked. Rejects when the port cannot be bound.
 */
export async function startDnsResponder(opts: DnsResponderOptions): Promise<DnsResponder> {
  let upstream = opts.upstream;
  if (!upstream) {
    try {
      upstream = upstreamFromResolvConf(readFileSync('/etc/resolv.conf', 'utf8'));
    } catch {
      /* none */
    }
  }
  const socket = dgram.createSocket('udp4');
  const pending = new Set<dgram.Socket>();
  socket.on('message', (msg, rinfo) => {
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return; // not DNS: nothing to answer
    }
    const local = answerFromMesh(query, opts.names());
    if (local) return void socket.send(local, rinfo.port, rinfo.address);
    if (!upstream) return void socket.send(failure(query, 'SERVFAIL'), rinfo.port, rinfo.address);
    const out = dgram.createSocket(isIP(upstream.address) === 6 ? 'udp6' : 'udp4');
    pending.add(out);
    const done = () => {
      clearTimeout(timer);
      pending.delete(out);
      out.close();
    };
    const timer = setTimeout(() => {
      opts.logger?.debug({ upstream, name: query.questions?.[0]?.name }, 'upstream resolver did not answer');
      socket.send(failure(query, 'SERVFAIL'), rinfo.port, rinfo.address);
      done();
    }, FORWARD_TIMEOUT_MS);
    out.on('message', (reply) => {
      socket.send(reply, rinfo.port, rinfo.address);
      done();
    });
    out.on('error', () => {
      socket.send(failure(query, 'SERVFAIL'), rinfo.port, rinfo.address);
      done();
    });
    out.send(msg, upstream.port, upstream.address);
  });
  socket.on('error', (e) => opts.logger?.warn({ err: e }, 'DNS responder error'));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(opts.port, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  }).catch((e: Error) => {
    throw new Error(`cannot serve DNS on UDP 127.0.0.1:${opts.port}: ${e.message}`);
  });
  return {
    port: socket.address().port,
    close: async () => {
      for (const p of pending) p.close();
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}

const RCODES = { SERVFAIL: 2 } as const;

/** An answer without records and with `rcode` (the low four bits of the flags). */
function failure(query: dnsPacket.Packet, rcode: keyof typeof RCODES): Buffer {
  const flags = ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED) | dnsPacket.RECURSION_AVAILABLE | RCODES[rcode];
  return dnsPacket.encode({ type: 'response', id: query.id ?? 0, flags, questions: query.questions ?? [] });
}
