// HTTP filter: fault injection (envoy.filters.http.fault). It acts only through per-route
// overrides (a fixed delay and/or an abort for a fraction of requests, optionally only for
// requests with given headers); listener-level settings are refused.
import type { FaultConfig } from '../../config/resilience-config.js';
import { FILTER_FAULT, HTTP_FAULT, typeUrl } from '../../../xds/type-urls.js';
import { XDS_PROBLEM, show } from '../errors.js';
import { at, idx, isObj, readDurationMs, readList, readObj, readPerMillion, type Obj, type ProblemSink } from '../decode-fields.js';
import { refuseListenerSettings, registerHttpFilter } from './http-filter.js';

function decodeFault(s: ProblemSink, raw: Obj, path: string): FaultConfig | undefined {
  const before = s.problems.length;
  const out: { delay?: FaultConfig['delay']; abort?: FaultConfig['abort']; headers: FaultConfig['headers'] } = { headers: [] };
  const delay = readObj(s, raw, 'delay', path, false);
  if (delay) {
    const dpath = at(path, 'delay');
    if (delay.headerDelay !== undefined) s.add(at(dpath, 'headerDelay'), XDS_PROBLEM.UNSUPPORTED, 'header-controlled delays are not supported by Trellis proxy');
    const ms = readDurationMs(s, delay, 'fixedDelay', dpath, -1);
    if (ms === -1) s.add(at(dpath, 'fixedDelay'), XDS_PROBLEM.REQUIRED, 'required');
    const pm = readPerMillion(s, delay.percentage, at(dpath, 'percentage'));
    if (ms !== undefined && ms >= 0 && pm !== undefined) out.delay = { ms, perMillion: pm };
  }
  const abort = readObj(s, raw, 'abort', path, false);
  if (abort) {
    const apath = at(path, 'abort');
    const pm = readPerMillion(s, abort.percentage, at(apath, 'percentage'));
    if (abort.headerAbort !== undefined) s.add(at(apath, 'headerAbort'), XDS_PROBLEM.UNSUPPORTED, 'header-controlled aborts are not supported by Trellis proxy');
    const http = abort.httpStatus;
    const grpc = abort.grpcStatus;
    if (http !== undefined && (typeof http !== 'number' || http < 200 || http > 599)) s.add(at(apath, 'httpStatus'), XDS_PROBLEM.INVALID, `must be 200..599, got ${show(http)}`);
    else if (grpc !== undefined && (typeof grpc !== 'number' || grpc < 0 || grpc > 16))
      s.add(at(apath, 'grpcStatus'), XDS_PROBLEM.INVALID, `must be a gRPC status 0..16, got ${show(grpc)}`);
    else if ((http === undefined) === (grpc === undefined)) s.add(apath, XDS_PROBLEM.INVALID, 'exactly one of httpStatus and grpcStatus is required');
    else if (pm !== undefined) out.abort = { httpStatus: typeof http === 'number' ? http : 503, grpcStatus: typeof grpc === 'number' ? grpc : undefined, perMillion: pm };
  }
  const headers: { name: string; value: string }[] = [];
  readList(s, raw, 'headers', path).forEach((h, i) => {
    const hpath = idx(at(path, 'headers'), i);
    if (!isObj(h) || typeof h.name !== 'string' || !isObj(h.stringMatch) || typeof h.stringMatch.exact !== 'string' || Object.keys(h.stringMatch).length !== 1) {
      return void s.add(hpath, XDS_PROBLEM.UNSUPPORTED, 'Trellis proxy supports only { name, stringMatch: { exact } } header conditions for faults');
    }
    headers.push({ name: h.name.toLowerCase(), value: h.stringMatch.exact });
  });
  out.headers = headers;
  for (const f of ['upstreamCluster', 'downstreamNodes', 'maxActiveFaults', 'responseRateLimit'])
    if (raw[f] !== undefined) s.add(at(path, f), XDS_PROBLEM.UNSUPPORTED, 'not supported by Trellis proxy');
  if (s.problems.length > before) return undefined;
  return out;
}

registerHttpFilter({
  name: FILTER_FAULT,
  typeUrl: typeUrl(HTTP_FAULT),
  decodeConfig: refuseListenerSettings,
  perRoute: {
    typeUrl: typeUrl(HTTP_FAULT),
    decode(s, config, path, into) {
      into.fault = decodeFault(s, config, path);
    },
  },
});
