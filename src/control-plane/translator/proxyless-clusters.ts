// A sidecar's outbound cluster and load assignment as a proxyless gRPC client takes them: the
// same names (EDS is shared), the load balancers gRPC 1.14 has (A42 ring hash, round robin),
// outlier detection as A50 reads it, max_requests (A32), and mTLS through the certificate
// provider of its bootstrap (A29) instead of SDS.
import type { Cluster, ClusterLoadAssignment, LbEndpoint, OutlierDetection } from '../../xds/envoy-types.js';
import { structToJson } from '../../xds/node-metadata.js';
import { GRPC_CERT_PROVIDER_INSTANCE } from '../../xds/proxyless-grpc.js';
import { spiffeId } from '../../xds/spiffe.js';
import type { TransportSocket } from '../../xds/tls-types.js';
import { TRANSPORT_SOCKET_TLS, typeUrl, UPSTREAM_TLS_CONTEXT } from '../../xds/type-urls.js';
import { secureOutboundCluster } from './security.js';
import type { TranslatorInput } from './types.js';

export interface ProxylessCluster {
  cluster: Cluster;
  warnings: string[];
}

const cache = new WeakMap<TranslatorInput, Map<string, ProxylessCluster>>();

/** The proxyless form of a mesh cluster (computed once per input and cluster). */
export function proxylessCluster(input: TranslatorInput, sidecar: Cluster): ProxylessCluster {
  let byName = cache.get(input);
  if (!byName) cache.set(input, (byName = new Map<string, ProxylessCluster>()));
  const hit = byName.get(sidecar.name);
  if (hit) return hit;
  const warnings: string[] = [];
  const at = `cluster ${sidecar.name}`;
  const out: Cluster = { name: sidecar.name, type: sidecar.type, lbPolicy: 'ROUND_ROBIN' };
  if (sidecar.edsClusterConfig) out.edsClusterConfig = sidecar.edsClusterConfig;
  if (sidecar.connectTimeout) out.connectTimeout = sidecar.connectTimeout;
  if (sidecar.metadata) out.metadata = sidecar.metadata;
  if (sidecar.lbPolicy === 'RING_HASH') {
    out.lbPolicy = 'RING_HASH';
    if (sidecar.ringHashLbConfig) out.ringHashLbConfig = sidecar.ringHashLbConfig;
  } else if (sidecar.lbPolicy !== 'ROUND_ROBIN' && sidecar.lbPolicy !== undefined) {
    warnings.push(`${at}: load balancer ${sidecar.lbPolicy} is not in gRPC 1.14's xDS client (it has round robin and ring hash); proxyless clients use round robin`);
  }
  const thresholds = sidecar.circuitBreakers?.thresholds.find((t) => t.priority === undefined || t.priority === 'DEFAULT');
  if (thresholds?.maxRequests) out.circuitBreakers = { thresholds: [{ priority: 'DEFAULT', maxRequests: thresholds.maxRequests }] };
  const ignored = (['maxConnections', 'maxPendingRequests', 'maxRetries', 'retryBudget'] as const).filter((k) => thresholds?.[k] !== undefined);
  if (ignored.length) warnings.push(`${at}: circuit breaker limits ${ignored.join(', ')} are not applied by proxyless gRPC clients (gRPC A32 has only maxRequests)`);
  if (sidecar.outlierDetection) out.outlierDetection = proxylessOutlierDetection(sidecar.outlierDetection, at, warnings);
  if (input.security) {
    const meta = structToJson(sidecar.metadata?.filterMetadata?.trellis);
    const own = spiffeId(input.security.trustDomain, String(meta.namespace), String(meta.service));
    out.transportSocket = proxylessMtls(secureOutboundCluster(input, input.security.trustDomain, sidecar), own);
  }
  const result = { cluster: out, warnings };
  byName.set(sidecar.name, result);
  return result;
}

/** gRPC A50 ejects by success rate and failure percentage, not consecutive errors; success rate is off as on sidecars. */
function proxylessOutlierDetection(od: OutlierDetection, at: string, warnings: string[]): OutlierDetection {
  if ((od.enforcingConsecutive_5xx?.value ?? 0) > 0) {
    warnings.push(
      `${at}: outlier detection by consecutive errors is not done by proxyless gRPC clients (gRPC A50 has success rate and failure percentage); set outlierDetection.failureRate for them`,
    );
  }
  const out: OutlierDetection = { enforcingSuccessRate: { value: 0 } };
  if (od.interval) out.interval = od.interval;
  if (od.baseEjectionTime) out.baseEjectionTime = od.baseEjectionTime;
  if (od.maxEjectionPercent) out.maxEjectionPercent = od.maxEjectionPercent;
  if (od.enforcingFailurePercentage) {
    out.enforcingFailurePercentage = od.enforcingFailurePercentage;
    if (od.failurePercentageThreshold) out.failurePercentageThreshold = od.failurePercentageThreshold;
    if (od.failurePercentageMinimumHosts) out.failurePercentageMinimumHosts = od.failurePercentageMinimumHosts;
    if (od.failurePercentageRequestVolume) out.failurePercentageRequestVolume = od.failurePercentageRequestVolume;
  }
  return out;
}

const PROVIDER = { instanceName: GRPC_CERT_PROVIDER_INSTANCE };

/**
 * The UpstreamTlsContext gRPC A29 accepts: the workload certificate and the mesh roots from the
 * bootstrap's certificate provider, and the SPIFFE IDs the sidecar form accepts (exact URI SANs).
 * gRPC accepts any SAN when the list is empty, so a Service without admitted workloads accepts
 * its own identity only (it has no endpoints then).
 */
function proxylessMtls(secured: Cluster, ownIdentity: string): TransportSocket {
  const tls = secured.transportSocket?.typedConfig.commonTlsContext;
  const sans = tls?.combinedValidationContext?.defaultValidationContext.matchTypedSubjectAltNames?.map((m) => m.matcher.exact!) ?? [];
  if (sans.length === 0) sans.push(ownIdentity);
  return {
    name: TRANSPORT_SOCKET_TLS,
    typedConfig: {
      '@type': typeUrl(UPSTREAM_TLS_CONTEXT) as 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
      commonTlsContext: {
        tlsCertificateSdsSecretConfigs: [],
        tlsCertificateProviderInstance: PROVIDER,
        validationContext: { caCertificateProviderInstance: PROVIDER, matchSubjectAltNames: sans.map((exact) => ({ exact })) },
      },
    },
  };
}

const assignments = new WeakMap<ClusterLoadAssignment, ClusterLoadAssignment>();

/**
 * gRPC requires a locality on each group of endpoints, skips a locality without a weight, and
 * refuses an address listed twice (a restarted workload's new node beside its old one in the
 * grace period): one entry per address, the healthy one. gRPC never calls an UNHEALTHY endpoint,
 * while sidecars fall back on them when none is healthy (proxies reconnecting after a control-plane
 * restart, within their grace period, still serve): with no healthy endpoint, they go as UNKNOWN,
 * which gRPC calls, so both kinds of caller act alike.
 */
export function proxylessLoadAssignment(cla: ClusterLoadAssignment): ClusterLoadAssignment {
  let out = assignments.get(cla);
  if (!out) {
    out = { clusterName: cla.clusterName, endpoints: cla.endpoints.map((e) => ({ locality: {}, loadBalancingWeight: { value: 1 }, lbEndpoints: onePerAddress(e.lbEndpoints) })) };
    assignments.set(cla, out);
  }
  return out;
}

function onePerAddress(endpoints: readonly LbEndpoint[]): LbEndpoint[] {
  const byAddress = new Map<string, LbEndpoint>();
  for (const e of endpoints) {
    const { address, portValue } = e.endpoint.address.socketAddress;
    const key = `${address} ${portValue}`;
    const seen = byAddress.get(key);
    if (!seen || (seen.healthStatus !== 'HEALTHY' && e.healthStatus === 'HEALTHY')) byAddress.set(key, e);
  }
  const unique = byAddress.size === endpoints.length ? [...endpoints] : [...byAddress.values()];
  if (unique.some((e) => e.healthStatus === 'HEALTHY')) return unique;
  return unique.map((e) => (e.healthStatus === 'UNHEALTHY' ? { ...e, healthStatus: 'UNKNOWN' } : e));
}
