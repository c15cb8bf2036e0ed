// Decodes an Envoy ClusterLoadAssignment (EDS, or the inline endpoints of a STATIC cluster)
// into the proxy's endpoints: IP literal and port, health, weight and workload.
import { err, ok, type Result } from '../../common/result.js';
import type { Endpoint } from '../config/runtime-config.js';
import { XDS_PROBLEM, show, type Problem } from './errors.js';
import { ProblemSink, at, idx, isObj, metadataString, readList, readName, readSocketAddress, readTrellisMetadata, resourceLabel, type Obj } from './decode-fields.js';

/** The endpoints of one cluster, by the CLA's `clusterName` (the EDS service name). */
export interface DecodedEndpoints {
  readonly clusterName: string;
  readonly endpoints: readonly Endpoint[];
}

/** Health states in which the proxy sends no new requests to an endpoint (TIMEOUT: Envoy reads it as unhealthy). */
const UNHEALTHY = new Set(['UNHEALTHY', 'DRAINING', 'TIMEOUT']);

/** Decodes one ClusterLoadAssignment; `index` is its position in the response. */
export function decodeClusterLoadAssignment(raw: unknown, index = 0): Result<DecodedEndpoints, Problem[]> {
  const s = new ProblemSink(resourceLabel('endpoints', raw, 'clusterName', index));
  if (!isObj(raw)) {
    s.add('', XDS_PROBLEM.INVALID, `must be a ClusterLoadAssignment object, got ${show(raw)}`);
    return err(s.problems);
  }
  const clusterName = readName(s, raw, 'clusterName', '');
  const endpoints = decodeLocalityEndpoints(s, raw, '');
  if (!s.ok || !clusterName) return err(s.problems);
  return ok({ clusterName, endpoints });
}

/** The endpoints of every locality of `cla` (localities and priorities are flattened: Trellis has one). */
export function decodeLocalityEndpoints(s: ProblemSink, cla: Obj, path: string, hostNames = false): Endpoint[] {
  const out: Endpoint[] = [];
  readList(s, cla, 'endpoints', path).forEach((loc, i) => {
    const lpath = idx(at(path, 'endpoints'), i);
    if (!isObj(loc)) return void s.add(lpath, XDS_PROBLEM.INVALID, `must be a LocalityLbEndpoints object, got ${show(loc)}`);
    if (typeof loc.priority === 'number' && loc.priority !== 0) {
      s.add(at(lpath, 'priority'), XDS_PROBLEM.UNSUPPORTED, `priorities are not supported by Trellis proxy, got ${loc.priority}`);
    }
    readList(s, loc, 'lbEndpoints', lpath).forEach((ep, j) => {
      const e = decodeLbEndpoint(s, ep, idx(at(lpath, 'lbEndpoints'), j), hostNames);
      if (e) out.push(e);
    });
  });
  return out;
}

function decodeLbEndpoint(s: ProblemSink, raw: unknown, path: string, hostNames: boolean): Endpoint | undefined {
  if (!isObj(raw)) return s.add(path, XDS_PROBLEM.INVALID, `must be an LbEndpoint object, got ${show(raw)}`);
  const endpoint = raw.endpoint;
  if (!isObj(endpoint)) return s.add(at(path, 'endpoint'), XDS_PROBLEM.REQUIRED, 'required');
  const addr = readSocketAddress(s, endpoint, 'address', at(path, 'endpoint'), hostNames);
  const health = raw.healthStatus ?? 'UNKNOWN';
  let weight = 1;
  const w = raw.loadBalancingWeight;
  if (w !== undefined) {
    const value = isObj(w) ? (w.value ?? 0) : w;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      return s.add(at(path, 'loadBalancingWeight'), XDS_PROBLEM.INVALID, `must be an integer >= 1, got ${show(value)}`);
    }
    weight = value;
  }
  const workload = metadataString(s, readTrellisMetadata(s, raw, path), 'workload', path);
  if (!addr) return undefined;
  const e: Endpoint = { address: addr.address, port: addr.port, healthy: !UNHEALTHY.has(String(health)), weight };
  return workload === undefined ? e : { ...e, workload };
}
