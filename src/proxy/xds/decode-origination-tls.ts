// Decodes the UpstreamTlsContext of an external host's cluster (TLS origination): no client
// certificate, the server name (SNI) that is also the DNS SAN checked, and the CAs: inline PEM
// or the system's. Anything that would weaken the check is refused, naming the field.
import type { OriginationTls } from '../config/runtime-config.js';
import { TRANSPORT_SOCKET_TLS, typeUrl, UPSTREAM_TLS_CONTEXT } from '../../xds/type-urls.js';
import { at, isObj, type ProblemSink } from './decode-fields.js';
import { XDS_PROBLEM, show } from './errors.js';

/** The origination settings of `socket`, or undefined with the problems added to `s`. */
export function decodeOriginationTls(s: ProblemSink, socket: unknown, path: string): OriginationTls | undefined {
  if (!isObj(socket)) return s.add(path, XDS_PROBLEM.INVALID, `must be a TransportSocket object, got ${show(socket)}`);
  if (socket.name !== TRANSPORT_SOCKET_TLS) return s.add(at(path, 'name'), XDS_PROBLEM.UNSUPPORTED, `only ${TRANSPORT_SOCKET_TLS} is supported, got ${show(socket.name)}`);
  const config = socket.typedConfig;
  const tpath = at(path, 'typedConfig');
  if (!isObj(config) || config['@type'] !== typeUrl(UPSTREAM_TLS_CONTEXT))
    return s.add(tpath, XDS_PROBLEM.INVALID, `must be a ${typeUrl(UPSTREAM_TLS_CONTEXT)}, got ${show(isObj(config) ? config['@type'] : config)}`);
  const sni = config.sni;
  if (typeof sni !== 'string' || sni === '') return s.add(at(tpath, 'sni'), XDS_PROBLEM.REQUIRED, `required: the external server's name, sent and checked, got ${show(sni)}`);
  const cpath = at(tpath, 'commonTlsContext');
  const common = config.commonTlsContext;
  if (!isObj(common)) return s.add(cpath, XDS_PROBLEM.REQUIRED, 'required');
  if (common.tlsCertificateSdsSecretConfigs !== undefined || common.tlsCertificates !== undefined)
    return s.add(cpath, XDS_PROBLEM.UNSUPPORTED, 'client certificates to external hosts are not supported by Trellis proxy');
  const vpath = at(cpath, 'validationContext');
  const v = common.validationContext;
  if (!isObj(v)) return s.add(vpath, XDS_PROBLEM.REQUIRED, 'required: the server certificate is always checked');
  const ca = isObj(v.trustedCa) ? v.trustedCa.inlineString : undefined;
  if (v.trustedCa !== undefined && (typeof ca !== 'string' || !ca.includes('-----BEGIN CERTIFICATE-----')))
    return s.add(at(vpath, 'trustedCa.inlineString'), XDS_PROBLEM.INVALID, `must be PEM certificates, got ${show(ca)}`);
  if (v.trustedCa === undefined && !isObj(v.systemRootCerts))
    return s.add(vpath, XDS_PROBLEM.REQUIRED, 'must give trustedCa.inlineString or systemRootCerts: the server certificate is always checked');
  // The server name is what Node checks the certificate's DNS SANs against; another SAN matcher cannot be honoured.
  const sans = v.matchTypedSubjectAltNames;
  const onlySni = Array.isArray(sans) && sans.every((m) => isObj(m) && m.sanType === 'DNS' && isObj(m.matcher) && m.matcher.exact === sni);
  if (sans !== undefined && !onlySni)
    return s.add(at(vpath, 'matchTypedSubjectAltNames'), XDS_PROBLEM.UNSUPPORTED, `only the DNS SAN equal to sni (${show(sni)}) is supported, got ${show(sans)}`);
  return { serverName: sni, ...(typeof ca === 'string' ? { ca } : {}) };
}
