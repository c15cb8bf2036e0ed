// Decodes an Envoy Cluster (CDS) into the proxy's cluster settings: STATIC clusters carry
// their endpoints inline; EDS clusters get them from the ClusterLoadAssignment of their
// EDS service name, which arrives separately (decode-endpoints).
import { isIP } from 'node:net';
import { err, ok, type Result } from '../../common/result.js';
import { serviceDnsNames } from '../../xds/names.js';
import type { ClusterConfig, Endpoint, LbPolicy } from '../config/runtime-config.js';
import { XDS_PROBLEM, show, type Problem } from './errors.js';
import { ProblemSink, isObj, metadataString, readDurationMs, readName, readObj, readOptionalString, readTrellisMetadata, resourceLabel, type Obj } from './decode-fields.js';
import { decodeUpstreamTls } from './decode-tls.js';
import { decodeOriginationTls } from './decode-origination-tls.js';
import { decodeLocalityEndpoints } from './decode-endpoints.js';
import { decodeCircuitBreakers, decodeOutlierDetection } from './decode-cluster-policy.js';
import { decodeUpstreamProtocol } from './decode-protocol-options.js';

/** Envoy's connect timeout when the cluster does not set one. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** A decoded cluster; its endpoints are filled in when the runtime config is built. */
export interface DecodedCluster {
  readonly config: Omit<ClusterConfig, 'endpoints'>;
  /** STATIC: the endpoints, inline. EDS: the name of the ClusterLoadAssignment to read them from. */
  readonly source: { readonly type: 'static'; readonly endpoints: readonly Endpoint[] } | { readonly type: 'eds'; readonly edsName: string };
}

const LB_POLICIES: Record<string, LbPolicy> = { ROUND_ROBIN: 'round_robin', LEAST_REQUEST: 'least_request', RANDOM: 'random', RING_HASH: 'ring_hash' };

/** Decodes one Cluster; `index` is its position in the response. */
export function decodeCluster(raw: unknown, index = 0): Result<DecodedCluster, Problem[]> {
  const s = new ProblemSink(resourceLabel('cluster', raw, 'name', index));
  if (!isObj(raw)) {
    s.add('', XDS_PROBLEM.INVALID, `must be a Cluster object, got ${show(raw)}`);
    return err(s.problems);
  }
  const name = readName(s, raw, 'name', '');
  const originalDst = raw.type === 'ORIGINAL_DST';
  // An ORIGINAL_DST cluster's "balancer" is the connection's own destination (CLUSTER_PROVIDED).
  const lbPolicy = originalDst && (raw.lbPolicy === 'CLUSTER_PROVIDED' || raw.lbPolicy === undefined) ? 'round_robin' : readLbPolicy(s, raw);
  const connectTimeoutMs = readDurationMs(s, raw, 'connectTimeout', '', DEFAULT_CONNECT_TIMEOUT_MS);
  const meta = readTrellisMetadata(s, raw, '');
  const service = metadataString(s, meta, 'service', '');
  const namespace = metadataString(s, meta, 'namespace', '');
  const vip = meta?.vip;
  if (vip !== undefined && (typeof vip !== 'string' || isIP(vip) === 0))
    s.add('metadata.filterMetadata.trellis.vip', XDS_PROBLEM.INVALID, `must be an IP address, got ${show(vip)}`);
  const source: DecodedCluster['source'] | undefined = originalDst ? { type: 'static', endpoints: [] } : readSource(s, raw);
  // An external host's cluster (metadata `external`) speaks the external server's TLS, not the mesh's.
  const external = meta?.external === true;
  const hosts = external ? readHosts(s, meta?.hosts) : undefined;
  const tls = raw.transportSocket === undefined || external ? undefined : decodeUpstreamTls(s, raw.transportSocket, 'transportSocket');
  const origination = raw.transportSocket !== undefined && external ? decodeOriginationTls(s, raw.transportSocket, 'transportSocket') : undefined;
  const limits = decodeCircuitBreakers(s, raw);
  const outlier = decodeOutlierDetection(s, raw);
  const upstreamProtocol = decodeUpstreamProtocol(s, raw);
  if (!s.ok || !name || !lbPolicy || connectTimeoutMs === undefined || !source) return err(s.problems);
  // Inbound clusters stand for the local application, which the cluster name identifies.
  const label = !name.startsWith('inbound|') && service && namespace ? `${service}.${namespace}` : name;
  const config: DecodedCluster['config'] = {
    name,
    lbPolicy,
    connectTimeoutMs,
    service: label,
    ...(tls ? { tls } : {}),
    ...(origination ? { origination } : {}),
    ...(limits ? { limits } : {}),
    ...(outlier ? { outlier } : {}),
    ...(upstreamProtocol ? { upstreamProtocol } : {}),
  };
  if (originalDst) return ok({ config: { ...config, originalDst: true }, source });
  if (typeof vip === 'string' && hosts) return ok({ config: { ...config, virtualIp: { address: vip, names: hosts } }, source });
  if (typeof vip === 'string' && service && namespace) return ok({ config: { ...config, virtualIp: { address: vip, names: serviceDnsNames(service, namespace) } }, source });
  return ok({ config, source });
}

/** The host names of an external cluster (metadata `hosts`), which the DNS responder answers with its virtual IP. */
function readHosts(s: ProblemSink, hosts: unknown): string[] | undefined {
  if (Array.isArray(hosts) && hosts.length > 0 && hosts.every((h) => typeof h === 'string' && h !== '')) return hosts as string[];
  return s.add('metadata.filterMetadata.trellis.hosts', XDS_PROBLEM.INVALID, `must be a non-empty list of host names on an external cluster, got ${show(hosts)}`);
}

function readLbPolicy(s: ProblemSink, raw: Obj): LbPolicy | undefined {
  const p = raw.lbPolicy ?? 'ROUND_ROBIN'; // proto3 omits the default, ROUND_ROBIN
  const policy = typeof p === 'string' ? LB_POLICIES[p] : undefined;
  if (!policy) return s.add('lbPolicy', XDS_PROBLEM.UNSUPPORTED, `${show(p)} is not supported by Trellis proxy (supported: ${Object.keys(LB_POLICIES).join(', ')})`);
  return policy;
}

function readSource(s: ProblemSink, raw: Obj): DecodedCluster['source'] | undefined {
  if (raw.clusterType !== undefined) return s.add('clusterType', XDS_PROBLEM.UNSUPPORTED, 'custom cluster types are not supported by Trellis proxy; use EDS or STATIC');
  const type = raw.type ?? 'STATIC'; // proto3 omits the default, STATIC
  if (type === 'STATIC' || type === 'STRICT_DNS') {
    const cla = readObj(s, raw, 'loadAssignment', '');
    if (!cla) return undefined;
    const before = s.problems.length;
    // STRICT_DNS: host names, resolved by the OS resolver each time the proxy connects.
    const endpoints = decodeLocalityEndpoints(s, cla, 'loadAssignment', type === 'STRICT_DNS');
    return s.problems.length === before ? { type: 'static', endpoints } : undefined;
  }
  if (type === 'EDS') {
    const eds = readObj(s, raw, 'edsClusterConfig', '');
    if (!eds) return undefined;
    const source = eds.edsConfig;
    if (!isObj(source) || !isObj(source.ads)) {
      return s.add('edsClusterConfig.edsConfig', XDS_PROBLEM.UNSUPPORTED, `must be { ads: {} } (EDS over the aggregated stream), got ${show(source)}`);
    }
    const serviceName = readOptionalString(s, eds, 'serviceName', 'edsClusterConfig');
    const name = typeof raw.name === 'string' ? raw.name : '';
    return { type: 'eds', edsName: serviceName || name };
  }
  return s.add('type', XDS_PROBLEM.UNSUPPORTED, `${show(type)} is not supported by Trellis proxy (supported: EDS, STATIC, STRICT_DNS, ORIGINAL_DST)`);
}
