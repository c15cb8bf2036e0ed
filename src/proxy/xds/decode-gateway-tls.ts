// Decodes the TLS of a gateway's HTTPS listener: filter chains matched by SNI (server_names), each
// terminating TLS with certificates from SDS `gateway~` secrets, no client certificate asked,
// and a default chain for clients whose SNI no chain names.
import type { TerminatingTls } from '../config/runtime-config.js';
import { GATEWAY_SECRET_PREFIX } from '../../xds/names.js';
import { DOWNSTREAM_TLS_CONTEXT, TRANSPORT_SOCKET_TLS, typeUrl } from '../../xds/type-urls.js';
import { at, isObj, type Obj, type ProblemSink } from './decode-fields.js';
import { XDS_PROBLEM, show } from './errors.js';

/** True when the chain terminates TLS with a gateway certificate (rather than the mesh's mTLS). */
export function isGatewayChain(chain: unknown): boolean {
  const configs = isObj(chain) && isObj(chain.transportSocket) && isObj(chain.transportSocket.typedConfig) ? chain.transportSocket.typedConfig.commonTlsContext : undefined;
  const names = isObj(configs) && Array.isArray(configs.tlsCertificateSdsSecretConfigs) ? configs.tlsCertificateSdsSecretConfigs : [];
  return names.some((n) => isObj(n) && typeof n.name === 'string' && n.name.startsWith(GATEWAY_SECRET_PREFIX));
}

/** The secret names of one chain's DownstreamTlsContext. */
function chainSecrets(s: ProblemSink, chain: Obj, path: string): string[] {
  const socket = chain.transportSocket;
  const spath = at(path, 'transportSocket');
  if (!isObj(socket) || socket.name !== TRANSPORT_SOCKET_TLS)
    return s.add(spath, XDS_PROBLEM.UNSUPPORTED, `must be ${TRANSPORT_SOCKET_TLS} (every chain of a gateway HTTPS listener terminates TLS)`) ?? [];
  const config = socket.typedConfig;
  if (!isObj(config) || config['@type'] !== typeUrl(DOWNSTREAM_TLS_CONTEXT))
    return s.add(at(spath, 'typedConfig'), XDS_PROBLEM.INVALID, `must be a ${typeUrl(DOWNSTREAM_TLS_CONTEXT)}`) ?? [];
  const require = config.requireClientCertificate;
  if (isObj(require) && require.value === true)
    s.add(at(spath, 'typedConfig.requireClientCertificate'), XDS_PROBLEM.UNSUPPORTED, 'client certificates at a gateway are not supported');
  const common = isObj(config.commonTlsContext) ? config.commonTlsContext : {};
  const min = isObj(common.tlsParams) ? common.tlsParams.tlsMinimumProtocolVersion : undefined;
  if (min !== undefined && min !== 'TLSv1_2' && min !== 'TLSv1_3')
    s.add(at(spath, 'typedConfig.commonTlsContext.tlsParams'), XDS_PROBLEM.UNSUPPORTED, `TLS older than 1.2 is never used, got ${show(min)}`);
  const list = Array.isArray(common.tlsCertificateSdsSecretConfigs) ? common.tlsCertificateSdsSecretConfigs : [];
  const names = list.map((n) => (isObj(n) && typeof n.name === 'string' ? n.name : ''));
  if (names.length === 0 || names.some((n) => !n.startsWith(GATEWAY_SECRET_PREFIX))) {
    s.add(at(spath, 'typedConfig.commonTlsContext.tlsCertificateSdsSecretConfigs'), XDS_PROBLEM.UNSUPPORTED, `must name only ${GATEWAY_SECRET_PREFIX} secrets, got ${show(names)}`);
  }
  return names;
}

/** The SNI table of a gateway listener from its chains and default chain. */
export function decodeTerminatingTls(s: ProblemSink, chains: readonly Obj[], defaultChain: Obj | undefined): TerminatingTls {
  const out = chains.map((c, i) => {
    const path = `filterChains[${i}]`;
    const match = isObj(c.filterChainMatch) ? c.filterChainMatch : {};
    const names = match.serverNames === undefined ? [] : match.serverNames;
    if (!Array.isArray(names) || names.some((n) => typeof n !== 'string' || n === '')) {
      s.add(at(path, 'filterChainMatch.serverNames'), XDS_PROBLEM.INVALID, `must be a list of host names, got ${show(names)}`);
    }
    for (const k of Object.keys(match))
      if (k !== 'serverNames') s.add(at(path, `filterChainMatch.${k}`), XDS_PROBLEM.UNSUPPORTED, 'a gateway HTTPS chain matches on serverNames only');
    return { serverNames: (Array.isArray(names) ? names : []).map((n) => String(n).toLowerCase()), secrets: chainSecrets(s, c, path) };
  });
  return { chains: out, ...(defaultChain ? { defaultSecrets: chainSecrets(s, defaultChain, 'defaultFilterChain') } : {}) };
}
