// Decodes the TLS transport sockets of listeners (DownstreamTlsContext) and clusters
// (UpstreamTlsContext) as Trellis uses them: the certificate from SDS `default`, validation
// against SDS `ROOTCA`, client certificates required inbound, and outbound the exact URI SANs
// (SPIFFE IDs) the server may present.
import type { InboundTls, UpstreamTls } from '../config/runtime-config.js';
import { ROOT_SECRET, WORKLOAD_SECRET } from '../../xds/spiffe.js';
import { DOWNSTREAM_TLS_CONTEXT, TRANSPORT_SOCKET_TLS, typeUrl, UPSTREAM_TLS_CONTEXT } from '../../xds/type-urls.js';
import { at, isObj, type Obj, type ProblemSink } from './decode-fields.js';
import { XDS_PROBLEM, show } from './errors.js';

function tlsConfig(s: ProblemSink, socket: unknown, path: string, type: string): Obj | undefined {
  if (!isObj(socket)) return s.add(path, XDS_PROBLEM.INVALID, `must be a TransportSocket object, got ${show(socket)}`);
  if (socket.name !== TRANSPORT_SOCKET_TLS) return s.add(at(path, 'name'), XDS_PROBLEM.UNSUPPORTED, `only ${TRANSPORT_SOCKET_TLS} is supported, got ${show(socket.name)}`);
  const config = socket.typedConfig;
  if (!isObj(config) || config['@type'] !== typeUrl(type))
    return s.add(at(path, 'typedConfig'), XDS_PROBLEM.INVALID, `must be a ${typeUrl(type)}, got ${show(isObj(config) ? config['@type'] : config)}`);
  return config;
}

/** Checks the SDS names and TLS version floor of a CommonTlsContext; answers its validation context, if combined. */
function commonContext(s: ProblemSink, config: Obj, path: string): Obj | undefined {
  const cpath = at(path, 'typedConfig.commonTlsContext');
  const c = config.commonTlsContext;
  if (!isObj(c)) return s.add(cpath, XDS_PROBLEM.REQUIRED, 'required');
  const certs = c.tlsCertificateSdsSecretConfigs;
  if (!Array.isArray(certs) || certs.length !== 1 || !isObj(certs[0]) || certs[0].name !== WORKLOAD_SECRET) {
    s.add(at(cpath, 'tlsCertificateSdsSecretConfigs'), XDS_PROBLEM.UNSUPPORTED, `must name exactly the SDS secret ${JSON.stringify(WORKLOAD_SECRET)}, got ${show(certs)}`);
  }
  const min = isObj(c.tlsParams) ? c.tlsParams.tlsMinimumProtocolVersion : undefined;
  if (min !== undefined && min !== 'TLSv1_2' && min !== 'TLSv1_3')
    s.add(at(cpath, 'tlsParams.tlsMinimumProtocolVersion'), XDS_PROBLEM.UNSUPPORTED, `TLS older than 1.2 is never used, got ${show(min)}`);
  const combined = isObj(c.combinedValidationContext) ? c.combinedValidationContext : undefined;
  const sds = combined ? combined.validationContextSdsSecretConfig : c.validationContextSdsSecretConfig;
  if (!isObj(sds) || sds.name !== ROOT_SECRET) {
    s.add(
      at(cpath, combined ? 'combinedValidationContext.validationContextSdsSecretConfig' : 'validationContextSdsSecretConfig'),
      XDS_PROBLEM.UNSUPPORTED,
      `must name the SDS secret ${JSON.stringify(ROOT_SECRET)}, got ${show(sds)}`,
    );
  }
  return combined && isObj(combined.defaultValidationContext) ? combined.defaultValidationContext : undefined;
}

/** The inbound TLS of a filter chain's transport socket. */
export function decodeDownstreamTls(s: ProblemSink, socket: unknown, path: string, mode: InboundTls['mode']): InboundTls | undefined {
  const config = tlsConfig(s, socket, path, DOWNSTREAM_TLS_CONTEXT);
  if (!config) return undefined;
  commonContext(s, config, path);
  const require = config.requireClientCertificate;
  if (!isObj(require) || require.value !== true)
    s.add(at(path, 'typedConfig.requireClientCertificate'), XDS_PROBLEM.UNSUPPORTED, 'must be true: mesh listeners always require a client certificate');
  return { mode };
}

/** The outbound TLS of a cluster's transport socket. */
export function decodeUpstreamTls(s: ProblemSink, socket: unknown, path: string): UpstreamTls | undefined {
  const config = tlsConfig(s, socket, path, UPSTREAM_TLS_CONTEXT);
  if (!config) return undefined;
  const validation = commonContext(s, config, path);
  const vpath = at(path, 'typedConfig.commonTlsContext.combinedValidationContext.defaultValidationContext.matchTypedSubjectAltNames');
  const matchers = validation?.matchTypedSubjectAltNames ?? [];
  if (!Array.isArray(matchers)) return s.add(vpath, XDS_PROBLEM.INVALID, `must be a list, got ${show(matchers)}`);
  const sans: string[] = [];
  matchers.forEach((m, i) => {
    const exact = isObj(m) && m.sanType === 'URI' && isObj(m.matcher) ? m.matcher.exact : undefined;
    if (typeof exact === 'string' && exact !== '') sans.push(exact);
    else s.add(`${vpath}[${i}]`, XDS_PROBLEM.UNSUPPORTED, `only URI SANs matched exactly are supported, got ${show(m)}`);
  });
  return { sans };
}
