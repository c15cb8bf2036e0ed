// Transparent mode, ports no Service declares. Under STRICT mTLS every inbound port of a
// captured workload takes mTLS only (Istio's behaviour): the inbound listener's default chain
// terminates mTLS, authorizes the caller's identity as for TCP, and passes the bytes on to the
// port they were sent to. So that a meshed caller still gets there, its outbound listener has a
// chain per such workload address (any port) that dials mTLS to the original destination and
// expects that workload's identity. An operator who wants a plaintext port excludes it from
// capture (`trellis run --exclude-inbound-ports`).
import type { Cluster, FilterChain } from '../../xds/envoy-types.js';
import { jsonToStruct } from '../../xds/node-metadata.js';
import { PASSTHROUGH_CLUSTER, undeclaredPortsClusterName } from '../../xds/names.js';
import { spiffeId } from '../../xds/spiffe.js';
import { chainWithRbac, type RbacRules } from './authorization.js';
import { durationFromMs } from './clusters.js';
import { tcpFilter } from './listeners.js';
import { inboundMode, mtlsChain, upstreamMtls, type MtlsMode } from './security.js';
import { admits } from './selection.js';
import type { TranslatorInput } from './types.js';

/** A captured workload whose inbound is STRICT: its address and the cluster that dials it with mTLS. */
export interface StrictPeer {
  readonly address: string;
  readonly cluster: Cluster;
  /** Ports its operator excluded from capture: plaintext, straight to the application. */
  readonly excludedPorts: readonly number[];
}

const peersOf = new WeakMap<TranslatorInput, readonly StrictPeer[]>();

/** The captured workloads whose inbound is STRICT, one per address (computed once per input; none when mTLS is off). */
export function strictCapturedPeers(input: TranslatorInput): readonly StrictPeer[] {
  const hit = peersOf.get(input);
  if (hit) return hit;
  const peers: StrictPeer[] = [];
  const security = input.security;
  if (security) {
    const seen = new Set<string>();
    const sorted = [...input.workloads].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const w of sorted) {
      if (!w.transparent || seen.has(w.address)) continue;
      // The Services this workload's own proxy applies (translate.ts): the two sides must agree on STRICT.
      const selecting = input.services.filter((s) => admits(s, w));
      // Warnings about the annotation are the selected proxy's own snapshot's to report.
      if (inboundMode(input.meshConfig.mtls.mode, selecting, new Set()) !== 'STRICT') continue;
      seen.add(w.address);
      const name = undeclaredPortsClusterName(w.service, w.namespace);
      peers.push({
        address: w.address,
        excludedPorts: w.excludedInboundPorts ?? [],
        cluster: {
          name,
          type: 'ORIGINAL_DST',
          lbPolicy: 'CLUSTER_PROVIDED',
          connectTimeout: durationFromMs(input.meshConfig.connectTimeoutMs),
          metadata: { filterMetadata: { trellis: jsonToStruct({ service: w.service, namespace: w.namespace }) } },
          transportSocket: upstreamMtls([spiffeId(security.trustDomain, w.namespace, w.service)]),
        },
      });
    }
  }
  peersOf.set(input, peers);
  return peers;
}

/**
 * Outbound chains: to any port of a STRICT peer's address that no Service chain claims, over
 * mTLS; its excluded ports (a port match wins over none) plaintext to where they were going.
 */
export function undeclaredPortChains(peers: readonly StrictPeer[]): FilterChain[] {
  return peers.flatMap((p) => {
    const host = p.address.includes(':') ? `[${p.address}]` : p.address;
    const prefixRanges = [{ addressPrefix: p.address, prefixLen: { value: p.address.includes(':') ? 128 : 32 } }];
    const excluded = p.excludedPorts.map((port): FilterChain => ({
      name: `outbound|${host}:${port}|excluded`,
      filterChainMatch: { prefixRanges, destinationPort: { value: port } },
      filters: [tcpFilter(`outbound_${PASSTHROUGH_CLUSTER}`, PASSTHROUGH_CLUSTER)],
    }));
    return [{ name: `outbound|${host}|undeclared`, filterChainMatch: { prefixRanges }, filters: [tcpFilter(`outbound_${p.cluster.name}`, p.cluster.name)] }, ...excluded];
  });
}

/**
 * The inbound default chain (ports no inbound entry names): passed on to the original
 * destination; under STRICT only after an mTLS handshake, and authorized as TCP by `rules`.
 */
export function inboundUndeclaredChain(mtls: MtlsMode | undefined, rules: readonly RbacRules[]): FilterChain {
  const passthrough: FilterChain = { name: `inbound|${PASSTHROUGH_CLUSTER}`, filters: [tcpFilter(`inbound_${PASSTHROUGH_CLUSTER}`, PASSTHROUGH_CLUSTER)] };
  if (mtls !== 'STRICT') return passthrough;
  return mtlsChain(chainWithRbac({ ...passthrough, name: `inbound|${PASSTHROUGH_CLUSTER}|mtls` }, rules));
}
