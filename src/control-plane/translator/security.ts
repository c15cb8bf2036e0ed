// mTLS in the snapshot: inbound listeners terminate TLS with the workload certificate (SDS
// `default`) and require a client certificate chaining to the mesh roots (SDS `ROOTCA`);
// PERMISSIVE ones also take plaintext on a second filter chain. Outbound clusters dial TLS and
// accept only the SPIFFE IDs of the workloads their Service admits as endpoints.
import type { Service } from '../../api/resource.js';
import type { Cluster, FilterChain, Listener } from '../../xds/envoy-types.js';
import { structToJson } from '../../xds/node-metadata.js';
import { ROOT_SECRET, spiffeId, WORKLOAD_SECRET } from '../../xds/spiffe.js';
import type { CommonTlsContext, TransportSocket } from '../../xds/tls-types.js';
import { DOWNSTREAM_TLS_CONTEXT, TRANSPORT_SOCKET_TLS, typeUrl, UPSTREAM_TLS_CONTEXT } from '../../xds/type-urls.js';
import { admits } from './selection.js';
import type { TranslatorInput } from './types.js';

export type MtlsMode = 'STRICT' | 'PERMISSIVE';
/** A Service annotation that overrides the mesh-wide mTLS mode for the workloads it selects. */
export const MTLS_MODE_ANNOTATION = 'trellis.io/mtls-mode';

const ADS = { ads: {}, resourceApiVersion: 'V3' as const };
const ALPN = ['h2', 'http/1.1'];

function common(sans?: readonly string[]): CommonTlsContext {
  const base = { tlsParams: { tlsMinimumProtocolVersion: 'TLSv1_2' as const }, tlsCertificateSdsSecretConfigs: [{ name: WORKLOAD_SECRET, sdsConfig: ADS }], alpnProtocols: ALPN };
  if (sans === undefined) return { ...base, validationContextSdsSecretConfig: { name: ROOT_SECRET, sdsConfig: ADS } };
  return {
    ...base,
    combinedValidationContext: {
      defaultValidationContext: { matchTypedSubjectAltNames: sans.map((exact) => ({ sanType: 'URI' as const, matcher: { exact } })) },
      validationContextSdsSecretConfig: { name: ROOT_SECRET, sdsConfig: ADS },
    },
  };
}

const downstreamTls = (): TransportSocket => ({
  name: TRANSPORT_SOCKET_TLS,
  typedConfig: {
    '@type': typeUrl(DOWNSTREAM_TLS_CONTEXT) as 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
    commonTlsContext: common(),
    requireClientCertificate: { value: true },
  },
});

/** `chain` terminating mTLS: the workload certificate, a client certificate that chains to the mesh roots required. */
export function mtlsChain(chain: FilterChain): FilterChain {
  return { ...chain, transportSocket: downstreamTls() };
}

/** The inbound listener with TLS on its filter chain; PERMISSIVE adds a plaintext chain with the same filter. */
export function secureInboundListener(l: Listener, mode: MtlsMode): Listener {
  const chain = l.filterChains[0]!;
  const tls = mtlsChain(chain);
  if (mode === 'STRICT') return { ...l, filterChains: [tls] };
  return {
    ...l,
    filterChains: [
      { ...tls, filterChainMatch: { transportProtocol: 'tls' } },
      { ...chain, filterChainMatch: { transportProtocol: 'raw_buffer' } },
    ],
  };
}

/**
 * The mode of a proxy's inbound listeners: a Service selecting it may override the mesh's mode
 * with the annotation; when Services disagree, STRICT wins. A bad annotation value is a warning.
 */
export function inboundMode(meshMode: MtlsMode, selecting: readonly Service[], warnings: Set<string>): MtlsMode {
  const modes = new Set<MtlsMode>();
  for (const s of selecting) {
    const v = s.metadata.annotations?.[MTLS_MODE_ANNOTATION];
    if (v === undefined) continue;
    if (v === 'STRICT' || v === 'PERMISSIVE') modes.add(v);
    else warnings.add(`Service ${s.metadata.namespace}/${s.metadata.name}: annotation ${MTLS_MODE_ANNOTATION}=${v} is not valid: expected STRICT or PERMISSIVE; ignored`);
  }
  if (modes.has('STRICT')) return 'STRICT';
  return modes.has('PERMISSIVE') ? 'PERMISSIVE' : meshMode;
}

/** The transport socket of an outbound cluster dialling mTLS and accepting exactly the SPIFFE IDs `sans`. */
export function upstreamMtls(sans: readonly string[]): TransportSocket {
  return {
    name: TRANSPORT_SOCKET_TLS,
    typedConfig: { '@type': typeUrl(UPSTREAM_TLS_CONTEXT) as 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', commonTlsContext: common(sans) },
  };
}

const secured = new WeakMap<TranslatorInput, Map<string, Cluster>>();

/**
 * The outbound cluster with mTLS that accepts exactly the identities of the workloads its
 * Service admits, the same workloads as its endpoints (computed once per input and cluster).
 */
export function secureOutboundCluster(input: TranslatorInput, trustDomain: string, c: Cluster): Cluster {
  let cache = secured.get(input);
  if (!cache) secured.set(input, (cache = new Map<string, Cluster>()));
  const hit = cache.get(c.name);
  if (hit) return hit;
  const meta = structToJson(c.metadata?.filterMetadata?.trellis);
  const service = input.services.find((s) => s.metadata.name === meta.service && s.metadata.namespace === meta.namespace);
  const ids = new Set<string>();
  if (service) {
    for (const w of input.workloads) {
      if (!admits(service, w)) continue;
      ids.add(spiffeId(trustDomain, w.namespace, w.service));
    }
  }
  const out: Cluster = { ...c, transportSocket: upstreamMtls([...ids].sort()) };
  cache.set(c.name, out);
  return out;
}
