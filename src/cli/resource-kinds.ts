// The names a user may type for a kind on the command line (kubectl style) and the API's URL names.
import type { ResourceKind } from '../api/resource.js';

/** Either a resource kind or the proxies the control plane knows (not a stored resource). */
export type GetTarget = { kind: ResourceKind } | { proxies: true };

const ALIASES: Readonly<Record<string, ResourceKind>> = {
  service: 'Service',
  services: 'Service',
  svc: 'Service',
  httproute: 'HTTPRoute',
  httproutes: 'HTTPRoute',
  meshconfig: 'MeshConfig',
  meshconfigs: 'MeshConfig',
  authorizationpolicy: 'AuthorizationPolicy',
  authorizationpolicies: 'AuthorizationPolicy',
  authz: 'AuthorizationPolicy',
  trafficpolicy: 'TrafficPolicy',
  trafficpolicies: 'TrafficPolicy',
  grpcroute: 'GRPCRoute',
  grpcroutes: 'GRPCRoute',
  tcproute: 'TCPRoute',
  tcproutes: 'TCPRoute',
  requestauthentication: 'RequestAuthentication',
  requestauthentications: 'RequestAuthentication',
  requestauthn: 'RequestAuthentication',
  externalservice: 'ExternalService',
  externalservices: 'ExternalService',
  extsvc: 'ExternalService',
  gatewayclass: 'GatewayClass',
  gatewayclasses: 'GatewayClass',
  gc: 'GatewayClass',
  gateway: 'Gateway',
  gateways: 'Gateway',
  gtw: 'Gateway',
  secret: 'Secret',
  secrets: 'Secret',
};
const PROXY_ALIASES = ['proxy', 'proxies'];

const PLURALS: Readonly<Record<ResourceKind, string>> = {
  Service: 'services',
  HTTPRoute: 'httproutes',
  MeshConfig: 'meshconfigs',
  AuthorizationPolicy: 'authorizationpolicies',
  TrafficPolicy: 'trafficpolicies',
  GRPCRoute: 'grpcroutes',
  TCPRoute: 'tcproutes',
  RequestAuthentication: 'requestauthentications',
  ExternalService: 'externalservices',
  GatewayClass: 'gatewayclasses',
  Gateway: 'gateways',
  Secret: 'secrets',
};

/** The kind a user's word names (case-insensitive), or `undefined`. */
export function resolveKind(word: string): ResourceKind | undefined {
  const w = word.toLowerCase();
  return Object.hasOwn(ALIASES, w) ? ALIASES[w] : undefined;
}

/** A kind, or `proxies`, for `trellis get`. */
export function resolveGetTarget(word: string): GetTarget | undefined {
  if (PROXY_ALIASES.includes(word.toLowerCase())) return { proxies: true };
  const kind = resolveKind(word);
  return kind ? { kind } : undefined;
}

/** The words accepted, for error messages and help. */
export const KIND_WORDS =
  'service (svc, services), httproute (httproutes), meshconfig (meshconfigs), authorizationpolicy (authz, authorizationpolicies), trafficpolicy (trafficpolicies), grpcroute (grpcroutes), tcproute (tcproutes), requestauthentication (requestauthn, requestauthentications), externalservice (extsvc, externalservices), gatewayclass (gc, gatewayclasses), gateway (gtw, gateways), secret (secrets)';

/** The REST API's URL name of a kind: `/api/v1/{plural}`. */
export const pluralOf = (kind: ResourceKind): string => PLURALS[kind];

/** kubectl's `service/payments` form. */
export const kindSlashName = (kind: string, name: string): string => `${kind.toLowerCase()}/${name}`;
