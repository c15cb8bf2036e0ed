// Decodes an Envoy Listener (LDS) into the proxy's ListenerConfig: one address, exactly one
// filter chain with exactly one network filter (HTTP connection manager with RDS over ADS,
// or TCP proxy to a cluster or weighted clusters); transparent-mode listeners
// (`useOriginalDst`) have many chains and are decoded by decode-capture-listener.
import { err, ok, type Result } from '../../common/result.js';
import type { Direction, ListenerConfig } from '../config/runtime-config.js';
import { decodeCaptureListener, type FilterResult } from './decode-capture-listener.js';
import { decodeHcmTelemetry } from './decode-telemetry.js';
import { decodePathNormalization } from './decode-path-normalization.js';
import { HTTP_PROXY_LISTENER } from '../../xds/names.js';
import { HTTP_CONNECTION_MANAGER, ROUTER, TCP_PROXY, typeUrl } from '../../xds/type-urls.js';
import { XDS_PROBLEM, show, type Problem } from './errors.js';
import { decodeDownstreamTls } from './decode-tls.js';
import { decodeTerminatingTls, isGatewayChain } from './decode-gateway-tls.js';
import type { InboundTls } from '../config/runtime-config.js';
import { decodeRbac } from './decode-rbac.js';
import type { AuthzRules } from '../config/authz-config.js';
import { NETWORK_RBAC } from '../../xds/type-urls.js';
import { httpFilterByType, httpFilterTypeUrls, type HcmFilterSettings } from './http-filters/index.js';
import {
  ProblemSink,
  at,
  checkType,
  idx,
  isObj,
  readList,
  readName,
  readObj,
  readSocketAddress,
  readWeightedClusters,
  resourceLabel,
  typeUrlOf,
  type Obj,
} from './decode-fields.js';

const HCM_TYPE = typeUrl(HTTP_CONNECTION_MANAGER);
const TCP_TYPE = typeUrl(TCP_PROXY);
const ROUTER_TYPE = typeUrl(ROUTER);
const NETWORK_RBAC_TYPE = typeUrl(NETWORK_RBAC);

/** Decodes one Listener; `index` is its position in the response (named in problems when it has no name). */
export function decodeListener(raw: unknown, index = 0): Result<ListenerConfig, Problem[]> {
  const s = new ProblemSink(resourceLabel('listener', raw, 'name', index));
  if (!isObj(raw)) {
    s.add('', XDS_PROBLEM.INVALID, `must be a Listener object, got ${show(raw)}`);
    return err(s.problems);
  }
  const name = readName(s, raw, 'name', '');
  const addr = readSocketAddress(s, raw, 'address', '');
  const direction = readDirection(s, raw);
  if (isObj(raw.useOriginalDst) && raw.useOriginalDst.value === true) {
    if (!s.ok || !name || !addr || !direction) return err(s.problems);
    const capture = decodeCaptureListener(
      s,
      raw,
      { name, direction, address: addr.address, port: addr.port, ...(addr.ipv4Compat ? { ipv4Compat: true } : {}) },
      decodeChainFilters,
    );
    return capture && s.ok ? ok(capture) : err(s.problems);
  }
  const chains = readList(s, raw, 'filterChains', '');
  if (chains.some(isGatewayChain)) return decodeGatewayListener(s, raw, chains, name, addr, direction);
  // One chain (plaintext, or mTLS with a transport socket), or two: mTLS matched on `tls` and plaintext on `raw_buffer` (PERMISSIVE).
  if (chains.length !== 1 && chains.length !== 2)
    s.add('filterChains', XDS_PROBLEM.UNSUPPORTED, `must have one filter chain, or two (transportProtocol tls and raw_buffer), got ${chains.length}`);
  let filter: FilterResult | undefined;
  let tls: InboundTls | undefined;
  if (chains.length === 1 || chains.length === 2) {
    const decoded = chains.map((c, i) =>
      isObj(c) ? { filter: decodeChainFilters(s, c, `filterChains[${i}]`) } : s.add(`filterChains[${i}]`, XDS_PROBLEM.INVALID, `must be a FilterChain object, got ${show(c)}`),
    );
    filter = decoded[0]?.filter;
    if (chains.length === 1) {
      const socket = isObj(chains[0]) ? chains[0].transportSocket : undefined;
      if (socket !== undefined) tls = decodeDownstreamTls(s, socket, 'filterChains[0].transportSocket', 'strict');
    } else {
      const [a, b] = chains.map((c) => (isObj(c) ? c : {}));
      const proto = (c: Obj | undefined) => (isObj(c?.filterChainMatch) ? c.filterChainMatch.transportProtocol : undefined);
      if (proto(a) !== 'tls')
        s.add('filterChains[0].filterChainMatch.transportProtocol', XDS_PROBLEM.UNSUPPORTED, `must be "tls" (the mTLS chain comes first), got ${show(proto(a))}`);
      if (proto(b) !== 'raw_buffer')
        s.add('filterChains[1].filterChainMatch.transportProtocol', XDS_PROBLEM.UNSUPPORTED, `must be "raw_buffer" (the plaintext chain), got ${show(proto(b))}`);
      if (b?.transportSocket !== undefined) s.add('filterChains[1].transportSocket', XDS_PROBLEM.UNSUPPORTED, 'the raw_buffer chain must be plaintext');
      tls = decodeDownstreamTls(s, a?.transportSocket, 'filterChains[0].transportSocket', 'permissive');
      if (JSON.stringify(decoded[0]?.filter) !== JSON.stringify(decoded[1]?.filter))
        s.add('filterChains[1].filters', XDS_PROBLEM.UNSUPPORTED, 'both filter chains must have the same network filter');
    }
  }
  if (!s.ok || !name || !addr || !direction || !filter) return err(s.problems);
  const base = { name, direction, address: addr.address, port: addr.port, ...(tls ? { tls } : {}) };
  const authz = filter.authz ? { authz: filter.authz } : {};
  if (filter.kind === 'http') {
    return ok({
      ...base,
      protocol: 'http',
      routeTable: filter.routeTable,
      httpProxy: name === HTTP_PROXY_LISTENER,
      ...authz,
      ...(filter.jwt ? { jwt: filter.jwt } : {}),
      ...(filter.telemetry !== undefined ? { telemetry: filter.telemetry } : {}),
      ...(filter.pathNormalization ? { pathNormalization: filter.pathNormalization } : {}),
    });
  }
  return ok({ ...base, protocol: 'tcp', clusters: filter.clusters, ...authz });
}

/** A gateway's HTTPS listener: chains by SNI that differ only in their certificates, one HTTP connection manager. */
function decodeGatewayListener(
  s: ProblemSink,
  raw: Obj,
  chains: unknown[],
  name: string | undefined,
  addr: ReturnType<typeof readSocketAddress>,
  direction: Direction | undefined,
): Result<ListenerConfig, Problem[]> {
  const objs = chains.map((c, i) => (isObj(c) ? c : (s.add(`filterChains[${i}]`, XDS_PROBLEM.INVALID, `must be a FilterChain object, got ${show(c)}`), {})));
  const fallback = isObj(raw.defaultFilterChain) ? raw.defaultFilterChain : undefined;
  const filters = [...objs, ...(fallback ? [fallback] : [])].map((c, i) => decodeChainFilters(s, c, i < objs.length ? `filterChains[${i}]` : 'defaultFilterChain'));
  if (filters.some((f) => JSON.stringify(f) !== JSON.stringify(filters[0])))
    s.add('filterChains', XDS_PROBLEM.UNSUPPORTED, 'every chain of a gateway listener must have the same network filters');
  const terminate = decodeTerminatingTls(s, objs, fallback);
  const filter = filters[0];
  if (filter && filter.kind !== 'http') s.add('filterChains[0].filters', XDS_PROBLEM.UNSUPPORTED, 'a gateway HTTPS listener serves HTTP (an HTTP connection manager)');
  if (!s.ok || !name || !addr || !direction || !filter || filter.kind !== 'http') return err(s.problems);
  return ok({
    name,
    direction,
    address: addr.address,
    port: addr.port,
    protocol: 'http',
    routeTable: filter.routeTable,
    httpProxy: false,
    terminate,
    ...(filter.authz ? { authz: filter.authz } : {}),
    ...(filter.telemetry !== undefined ? { telemetry: filter.telemetry } : {}),
    ...(filter.pathNormalization ? { pathNormalization: filter.pathNormalization } : {}),
  });
}

/** The network filters of one filter chain (also of a capture listener's chains). */
function decodeChainFilters(s: ProblemSink, raw: Obj, path: string): FilterResult | undefined {
  const filters = readList(s, raw, 'filters', path);
  // RBAC network filters (authorization) may come before the one terminal filter.
  if (filters.length === 0) return s.add(`${path}.filters`, XDS_PROBLEM.UNSUPPORTED, 'must have exactly one network filter (after any RBAC filters), got 0');
  const authz: AuthzRules[] = [];
  for (let i = 0; i < filters.length - 1; i++) {
    const f = filters[i];
    const fpath = `${path}.filters[${i}]`;
    const config = isObj(f) ? readObj(s, f, 'typedConfig', fpath) : undefined;
    if (!config || config['@type'] !== NETWORK_RBAC_TYPE) {
      s.add(`${path}.filters`, XDS_PROBLEM.UNSUPPORTED, `must have exactly one network filter, got ${filters.length}`);
      return undefined;
    }
    const rules = decodeRbac(s, config, `${fpath}.typedConfig`);
    if (rules) authz.push(rules);
  }
  const filter = decodeNetworkFilter(s, filters[filters.length - 1], `${path}.filters[${filters.length - 1}]`);
  if (filter && authz.length > 0) {
    if (filter.kind === 'http') s.add(`${path}.filters`, XDS_PROBLEM.UNSUPPORTED, 'network RBAC filters go only before tcp_proxy; HTTP listeners use the RBAC HTTP filter');
    return { ...filter, authz };
  }
  return filter;
}

function readDirection(s: ProblemSink, raw: Obj): Direction | undefined {
  const d = raw.trafficDirection;
  if (d === 'INBOUND') return 'inbound';
  if (d === 'OUTBOUND') return 'outbound';
  if (d === undefined || d === 'UNSPECIFIED') return s.add('trafficDirection', XDS_PROBLEM.REQUIRED, 'required: INBOUND or OUTBOUND');
  return s.add('trafficDirection', XDS_PROBLEM.INVALID, `must be INBOUND or OUTBOUND, got ${show(d)}`);
}

function decodeNetworkFilter(s: ProblemSink, raw: unknown, path: string): FilterResult | undefined {
  if (!isObj(raw)) return s.add(path, XDS_PROBLEM.INVALID, `must be a Filter object, got ${show(raw)}`);
  const config = readObj(s, raw, 'typedConfig', path);
  if (!config) return undefined;
  const cpath = at(path, 'typedConfig');
  const type = checkType(s, config, cpath, [HCM_TYPE, TCP_TYPE]);
  if (!type) return undefined;
  return type.endsWith(HTTP_CONNECTION_MANAGER) ? decodeHcm(s, config, cpath) : decodeTcpProxy(s, config, cpath);
}

function decodeHcm(s: ProblemSink, hcm: Obj, path: string): FilterResult | undefined {
  if (hcm.routeConfig !== undefined) s.add(at(path, 'routeConfig'), XDS_PROBLEM.UNSUPPORTED, 'inline route configuration is not supported by Trellis proxy; use rds');
  if (hcm.scopedRoutes !== undefined) s.add(at(path, 'scopedRoutes'), XDS_PROBLEM.UNSUPPORTED, 'scoped routes are not supported by Trellis proxy; use rds');
  if (hcm.codecType === 'HTTP3') s.add(at(path, 'codecType'), XDS_PROBLEM.UNSUPPORTED, 'HTTP3 is not supported by Trellis proxy; use AUTO, HTTP1 or HTTP2');
  const { authz, jwt } = decodeHttpFilters(s, hcm, path);
  if (hcm.routeConfig !== undefined || hcm.scopedRoutes !== undefined) return undefined;
  const rds = readObj(s, hcm, 'rds', path);
  if (!rds) return undefined;
  const rpath = at(path, 'rds');
  const routeTable = readName(s, rds, 'routeConfigName', rpath);
  const source = readObj(s, rds, 'configSource', rpath);
  if (source && !isObj(source.ads)) {
    s.add(at(rpath, 'configSource'), XDS_PROBLEM.UNSUPPORTED, `must be { ads: {} } (RDS over the aggregated stream), got ${show(source)}`);
  }
  const telemetry = decodeHcmTelemetry(s, hcm, path);
  const pathNormalization = decodePathNormalization(s, hcm, path);
  return routeTable
    ? { kind: 'http', routeTable, telemetry, ...(pathNormalization ? { pathNormalization } : {}), ...(authz.length > 0 ? { authz } : {}), ...(jwt ? { jwt } : {}) }
    : undefined;
}

/**
 * Decodes the HTTP filters by their type URL (http-filters/); an unknown filter is refused
 * unless the control plane marked it optional. Answers what they give the listener (RBAC rules in order, the JWT config).
 */
function decodeHttpFilters(s: ProblemSink, hcm: Obj, path: string): HcmFilterSettings {
  const fpath = at(path, 'httpFilters');
  const filters = readList(s, hcm, 'httpFilters', path);
  const into: HcmFilterSettings = { authz: [] };
  filters.forEach((f, i) => {
    if (!isObj(f)) return void s.add(idx(fpath, i), XDS_PROBLEM.INVALID, `must be an HttpFilter object, got ${show(f)}`);
    const kind = isObj(f.typedConfig) ? httpFilterByType(typeUrlOf(f.typedConfig)) : undefined;
    if (kind === undefined && f.isOptional === true) return;
    const config = readObj(s, f, 'typedConfig', idx(fpath, i));
    const cpath = at(idx(fpath, i), 'typedConfig');
    if (config && checkType(s, config, cpath, httpFilterTypeUrls()) && kind) kind.decodeConfig(s, config, cpath, into);
  });
  const last = filters[filters.length - 1];
  const lastKind = isObj(last) && isObj(last.typedConfig) ? httpFilterByType(typeUrlOf(last.typedConfig)) : undefined;
  if (lastKind?.terminal !== true) s.add(fpath, XDS_PROBLEM.INVALID, `must end with the router filter (${ROUTER_TYPE})`);
  return into;
}

function decodeTcpProxy(s: ProblemSink, tcp: Obj, path: string): FilterResult | undefined {
  const hasCluster = tcp.cluster !== undefined;
  const hasWeighted = tcp.weightedClusters !== undefined;
  if (hasCluster === hasWeighted) {
    return s.add(path, XDS_PROBLEM.INVALID, `exactly one of cluster and weightedClusters is required, got ${hasCluster ? 'both' : 'neither'}`);
  }
  if (hasCluster) {
    const cluster = readName(s, tcp, 'cluster', path);
    return cluster ? { kind: 'tcp', clusters: [{ cluster, weight: 1 }] } : undefined;
  }
  const clusters = readWeightedClusters(s, tcp, at(path, 'weightedClusters'), false);
  return clusters ? { kind: 'tcp', clusters } : undefined;
}
