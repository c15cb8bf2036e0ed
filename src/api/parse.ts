// Parsing any resource: dispatch on `kind` to the parser of that kind.
import type { Result } from '../common/result.js';
import { err } from '../common/result.js';
import type { Resource, ResourceKind } from './resource.js';
import { RESOURCE_KINDS } from './resource.js';
import { parseHTTPRoute } from './http-route.js';
import { parseMeshConfig } from './mesh-config.js';
import type { Problem } from './problem.js';
import { describeValue } from './problem.js';
import { parseService } from './service.js';
import { parseAuthorizationPolicy } from './authorization-policy.js';
import { parseTrafficPolicy } from './traffic-policy.js';
import { parseGRPCRoute } from './grpc-route.js';
import { parseTCPRoute } from './tcp-route.js';
import { parseRequestAuthentication } from './request-authentication.js';
import { parseExternalService } from './external-service.js';
import { parseGatewayClass } from './gateway-class.js';
import { parseGateway } from './gateway.js';
import { parseSecret } from './secret.js';
import { checkRawShape, checkResourceSize } from './raw-document.js';

const PARSERS: Readonly<Record<ResourceKind, (raw: unknown) => Result<Resource, Problem[]>>> = {
  Service: parseService,
  HTTPRoute: parseHTTPRoute,
  MeshConfig: parseMeshConfig,
  AuthorizationPolicy: parseAuthorizationPolicy,
  TrafficPolicy: parseTrafficPolicy,
  GRPCRoute: parseGRPCRoute,
  TCPRoute: parseTCPRoute,
  RequestAuthentication: parseRequestAuthentication,
  ExternalService: parseExternalService,
  GatewayClass: parseGatewayClass,
  Gateway: parseGateway,
  Secret: (raw) => parseSecret(raw),
};

const knownKinds = (): string => RESOURCE_KINDS.join(', ');

/**
 * Parses one raw document (from YAML or JSON) into a canonical resource: defaults applied,
 * status and store-set fields dropped except `metadata.resourceVersion`. On failure, every
 * problem found, each with its field path. A document nested too deep, holding a reserved key
 * (`__proto__`) or too large to deliver is refused before its kind's schema reads it.
 */
export function parseResource(raw: unknown): Result<Resource, Problem[]> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return err([{ path: '', message: `must be a map with apiVersion, kind, metadata and spec, got ${describeValue(raw)}` }]);
  }
  const shape = checkRawShape(raw);
  if (shape.length > 0) return err(shape);
  const kind = (raw as Record<string, unknown>).kind;
  if (kind === undefined) return err([{ path: 'kind', message: `required (one of ${knownKinds()})` }]);
  if (typeof kind !== 'string') return err([{ path: 'kind', message: `must be a string, one of ${knownKinds()}, got ${describeValue(kind)}` }]);
  if (!Object.hasOwn(PARSERS, kind)) {
    const near = RESOURCE_KINDS.find((k) => k.toLowerCase() === kind.toLowerCase());
    const hint = near ? ` (did you mean "${near}"?)` : '';
    return err([{ path: 'kind', message: `unknown kind ${describeValue(kind)}${hint}; known kinds: ${knownKinds()}` }]);
  }
  const parsed = PARSERS[kind as ResourceKind](raw);
  // After the schema, whose reasons (e.g. too many ports) say more than the size alone.
  const size = parsed.ok ? checkResourceSize(raw) : undefined;
  return size ? err([size]) : parsed;
}
