// Decodes the transparent-mode parts of an Envoy Listener (`useOriginalDst: true`): the
// listener filters (original_dst, tls_inspector, http_inspector), their timeout, and filter
// chains chosen by FilterChainMatch (destination prefix ranges and port, transport protocol,
// application protocols), plus the default filter chain.
import { isIP } from 'node:net';
import type { CaptureChain, ChainMatch, Direction, CaptureListenerConfig, ListenerTelemetry, PathNormalization, WeightedCluster } from '../config/runtime-config.js';
import { HTTP_INSPECTOR, ORIGINAL_DST_FILTER, TLS_INSPECTOR, typeUrl } from '../../xds/type-urls.js';
import { XDS_PROBLEM, show } from './errors.js';
import type { AuthzRules } from '../config/authz-config.js';
import type { JwtConfig } from '../config/jwt-config.js';
import type { ProblemSink } from './decode-fields.js';
import { at, checkType, idx, isObj, readDurationMs, readList, readObj, type Obj } from './decode-fields.js';
import { decodeDownstreamTls } from './decode-tls.js';

/** A filter chain's decoded network filters: what decode-listener's chain decoder returns. */
export type FilterResult =
  | { kind: 'http'; routeTable: string; telemetry?: ListenerTelemetry | undefined; pathNormalization?: PathNormalization; authz?: AuthzRules[]; jwt?: JwtConfig }
  | { kind: 'tcp'; clusters: WeightedCluster[]; authz?: AuthzRules[] };
/** Decodes the `filters` of the FilterChain `chain` at `path` (RBAC network filters, then one terminal filter). */
export type FiltersDecoder = (s: ProblemSink, chain: Obj, path: string) => FilterResult | undefined;

/** Envoy's default listener_filters_timeout. */
const DEFAULT_DETECTION_TIMEOUT_MS = 15_000;
const LISTENER_FILTER_TYPES = [ORIGINAL_DST_FILTER, TLS_INSPECTOR, HTTP_INSPECTOR].map(typeUrl);
const MATCH_FIELDS = new Set(['destinationPort', 'prefixRanges', 'transportProtocol', 'applicationProtocols']);

/** The capture listener of `raw` (whose name, address and direction are already read). */
export function decodeCaptureListener(
  s: ProblemSink,
  raw: Obj,
  base: { name: string; direction: Direction; address: string; port: number; ipv4Compat?: boolean },
  decodeFilters: FiltersDecoder,
): CaptureListenerConfig | undefined {
  readList(s, raw, 'listenerFilters', '').forEach((f, i) => {
    const path = idx('listenerFilters', i);
    if (!isObj(f)) return void s.add(path, XDS_PROBLEM.INVALID, `must be a ListenerFilter object, got ${show(f)}`);
    const config = readObj(s, f, 'typedConfig', path);
    if (config) checkType(s, config, at(path, 'typedConfig'), LISTENER_FILTER_TYPES);
  });
  const detectionTimeoutMs = readDurationMs(s, raw, 'listenerFiltersTimeout', '', DEFAULT_DETECTION_TIMEOUT_MS);
  if (raw.continueOnListenerFiltersTimeout !== true) {
    s.add(
      'continueOnListenerFiltersTimeout',
      XDS_PROBLEM.UNSUPPORTED,
      `must be true: Trellis proxy treats a connection that stays silent as opaque TCP, got ${show(raw.continueOnListenerFiltersTimeout)}`,
    );
  }
  const chains = readList(s, raw, 'filterChains', '').map((c, i) => decodeChain(s, c, idx('filterChains', i), decodeFilters, true));
  const defaultChain =
    raw.defaultFilterChain === undefined || raw.defaultFilterChain === null ? undefined : decodeChain(s, raw.defaultFilterChain, 'defaultFilterChain', decodeFilters, false);
  if (!s.ok || detectionTimeoutMs === undefined) return undefined;
  const config: CaptureListenerConfig = { ...base, protocol: 'capture', chains: chains as CaptureChain[], detectionTimeoutMs };
  return defaultChain ? { ...config, defaultChain } : config;
}

function decodeChain(s: ProblemSink, raw: unknown, path: string, decodeFilters: FiltersDecoder, matched: boolean): CaptureChain | undefined {
  if (!isObj(raw)) return s.add(path, XDS_PROBLEM.INVALID, `must be a FilterChain object, got ${show(raw)}`);
  const name = typeof raw.name === 'string' && raw.name !== '' ? raw.name : path;
  const match = isObj(raw.filterChainMatch) ? decodeMatch(s, raw.filterChainMatch, at(path, 'filterChainMatch')) : { prefixes: [], appProtocols: [] };
  if (!matched && isObj(raw.filterChainMatch)) s.add(at(path, 'filterChainMatch'), XDS_PROBLEM.INVALID, 'the default filter chain has no match');
  const filter = decodeFilters(s, raw, path);
  const tls = raw.transportSocket === undefined || raw.transportSocket === null ? undefined : decodeDownstreamTls(s, raw.transportSocket, at(path, 'transportSocket'), 'strict');
  if (!filter || !match) return undefined;
  const action: CaptureChain['action'] =
    filter.kind === 'http'
      ? {
          kind: 'http',
          routeTable: filter.routeTable,
          ...(filter.telemetry !== undefined ? { telemetry: filter.telemetry } : {}),
          ...(filter.pathNormalization ? { pathNormalization: filter.pathNormalization } : {}),
          ...(filter.jwt ? { jwt: filter.jwt } : {}),
        }
      : { kind: 'tcp', clusters: filter.clusters };
  return { name, match, action, ...(tls ? { tls } : {}), ...(filter.authz ? { authz: filter.authz } : {}) };
}

function decodeMatch(s: ProblemSink, m: Obj, path: string): ChainMatch | undefined {
  for (const key of Object.keys(m)) {
    if (!MATCH_FIELDS.has(key)) s.add(at(path, key), XDS_PROBLEM.UNSUPPORTED, `matching on ${key} is not supported by Trellis proxy (supported: ${[...MATCH_FIELDS].join(', ')})`);
  }
  const before = s.problems.length;
  let port: number | undefined;
  if (m.destinationPort !== undefined && m.destinationPort !== null) {
    const v = isObj(m.destinationPort) ? m.destinationPort.value : m.destinationPort;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535)
      s.add(at(path, 'destinationPort'), XDS_PROBLEM.INVALID, `must be a port 1..65535, got ${show(m.destinationPort)}`);
    else port = v;
  }
  const prefixes = readList(s, m, 'prefixRanges', path).flatMap((r, i): { address: string; prefixLength: number }[] => {
    const rpath = idx(at(path, 'prefixRanges'), i);
    if (!isObj(r)) {
      s.add(rpath, XDS_PROBLEM.INVALID, `must be a CidrRange object, got ${show(r)}`);
      return [];
    }
    const address = r.addressPrefix;
    const family = typeof address === 'string' ? isIP(address) : 0;
    const len = isObj(r.prefixLen) ? (r.prefixLen.value ?? 0) : (r.prefixLen ?? 0);
    if (family === 0) {
      s.add(at(rpath, 'addressPrefix'), XDS_PROBLEM.INVALID, `must be an IP address, got ${show(address)}`);
      return [];
    }
    if (typeof len !== 'number' || !Number.isInteger(len) || len < 0 || len > (family === 4 ? 32 : 128)) {
      s.add(at(rpath, 'prefixLen'), XDS_PROBLEM.INVALID, `must be 0..${family === 4 ? 32 : 128}, got ${show(r.prefixLen)}`);
      return [];
    }
    return [{ address: address as string, prefixLength: len }];
  });
  let transport: 'tls' | 'raw_buffer' | undefined;
  if (m.transportProtocol !== undefined && m.transportProtocol !== '') {
    if (m.transportProtocol === 'tls' || m.transportProtocol === 'raw_buffer') transport = m.transportProtocol;
    else s.add(at(path, 'transportProtocol'), XDS_PROBLEM.UNSUPPORTED, `must be "tls" or "raw_buffer", got ${show(m.transportProtocol)}`);
  }
  const appProtocols = readList(s, m, 'applicationProtocols', path).filter((p, i) => {
    if (typeof p === 'string' && p !== '') return true;
    s.add(idx(at(path, 'applicationProtocols'), i), XDS_PROBLEM.INVALID, `must be a non-empty string, got ${show(p)}`);
    return false;
  }) as string[];
  if (s.problems.length > before) return undefined;
  const match: ChainMatch = { prefixes, appProtocols, ...(port !== undefined ? { port } : {}), ...(transport ? { transport } : {}) };
  return match;
}
