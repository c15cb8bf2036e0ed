// Decodes a Cluster's upstream HTTP protocol (typedExtensionProtocolOptions → HttpProtocolOptions)
// as Envoy reads it: explicitHttpConfig names HTTP/1.1 or HTTP/2, useDownstreamProtocolConfig
// (or nothing) forwards in the caller's protocol.
import type { UpstreamHttpProtocol } from '../config/runtime-config.js';
import { HTTP_PROTOCOL_OPTIONS, typeUrl } from '../../xds/type-urls.js';
import { XDS_PROBLEM, show } from './errors.js';
import { at, checkType, isObj, readObj, type Obj, type ProblemSink } from './decode-fields.js';

const FIELD = 'typedExtensionProtocolOptions';
/** HttpProtocolOptions fields that would change more than the protocol: refused, not ignored. */
const UNSUPPORTED_FIELDS = ['commonHttpProtocolOptions', 'upstreamHttpProtocolOptions', 'httpFilters', 'headerValidationConfig', 'autoConfig'];

/** The cluster's upstream protocol; undefined (the downstream's) when it sets none. */
export function decodeUpstreamProtocol(s: ProblemSink, raw: Obj): UpstreamHttpProtocol | undefined {
  const all = readObj(s, raw, FIELD, '', false);
  if (!all) return undefined;
  let protocol: UpstreamHttpProtocol | undefined;
  for (const key of Object.keys(all)) {
    const path = at(FIELD, key);
    if (key !== HTTP_PROTOCOL_OPTIONS) {
      s.add(path, XDS_PROBLEM.UNSUPPORTED, `protocol options ${show(key)} are not supported by Trellis proxy (supported: ${HTTP_PROTOCOL_OPTIONS})`);
      continue;
    }
    const options = all[key];
    if (!isObj(options)) {
      s.add(path, XDS_PROBLEM.INVALID, `must be an HttpProtocolOptions object, got ${show(options)}`);
      continue;
    }
    if (checkType(s, options, path, [typeUrl(HTTP_PROTOCOL_OPTIONS)]) === undefined) continue;
    for (const f of UNSUPPORTED_FIELDS)
      if (options[f] !== undefined) s.add(at(path, f), XDS_PROBLEM.UNSUPPORTED, 'is not supported by Trellis proxy (explicitHttpConfig and useDownstreamProtocolConfig are)');
    protocol = explicitProtocol(s, options, path);
  }
  return protocol;
}

function explicitProtocol(s: ProblemSink, options: Obj, path: string): UpstreamHttpProtocol | undefined {
  const explicit = readObj(s, options, 'explicitHttpConfig', path, false);
  if (!explicit) return undefined; // useDownstreamProtocolConfig, or no choice: the caller's protocol
  const p = at(path, 'explicitHttpConfig');
  if (explicit.httpProtocolOptions !== undefined) return 'http/1.1';
  if (explicit.http2ProtocolOptions !== undefined) return 'h2';
  if (explicit.http3ProtocolOptions !== undefined)
    return s.add(at(p, 'http3ProtocolOptions'), XDS_PROBLEM.UNSUPPORTED, 'HTTP/3 upstreams are not supported by Trellis proxy (HTTP/1.1 and HTTP/2 are)');
  return s.add(p, XDS_PROBLEM.REQUIRED, 'one of httpProtocolOptions, http2ProtocolOptions is required');
}
