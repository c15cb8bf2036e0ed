// URL names of the resource kinds: `/api/v1/{plural}`.
import type { ResourceKind } from '../../api/resource.js';

const PLURALS: Readonly<Record<string, ResourceKind>> = {
  services: 'Service',
  httproutes: 'HTTPRoute',
  meshconfigs: 'MeshConfig',
  authorizationpolicies: 'AuthorizationPolicy',
  trafficpolicies: 'TrafficPolicy',
  grpcroutes: 'GRPCRoute',
  tcproutes: 'TCPRoute',
  requestauthentications: 'RequestAuthentication',
  externalservices: 'ExternalService',
  gatewayclasses: 'GatewayClass',
  gateways: 'Gateway',
  secrets: 'Secret',
};

/** The kind a URL plural names, or `undefined`. */
export const kindOfPlural = (plural: string): ResourceKind | undefined => (Object.hasOwn(PLURALS, plural) ? PLURALS[plural] : undefined);

export const pluralOf = (kind: ResourceKind): string => Object.keys(PLURALS).find((p) => PLURALS[p] === kind)!;

export const KNOWN_PLURALS = Object.keys(PLURALS);
