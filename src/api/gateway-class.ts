// Parsing a GatewayClass (Gateway API, cluster-scoped): which controller runs the Gateways of
// a class. Trellis owns the classes whose controllerName is TRELLIS_GATEWAY_CONTROLLER.
import { z } from 'zod';
import type { Result } from '../common/result.js';
import { ok } from '../common/result.js';
import type { ObjectMeta } from './resource.js';
import { GATEWAY_API_VERSION } from './resource.js';
import { clusterMetadata, envelope, toObjectMeta } from './metadata.js';
import { checkDns1123Subdomain } from './names.js';
import type { Problem } from './problem.js';
import { describeValue } from './problem.js';
import { checked, closedObject, parseWithSchema } from './schema-kit.js';

/** The controllerName of the GatewayClasses Trellis runs. */
export const TRELLIS_GATEWAY_CONTROLLER = 'trellis.dev/gateway-controller';

export interface GatewayClass {
  apiVersion: typeof GATEWAY_API_VERSION;
  kind: 'GatewayClass';
  metadata: ObjectMeta;
  spec: { controllerName: string; description?: string };
}

// Gateway API: a domain-prefixed path, e.g. example.net/gateway-controller.
const CONTROLLER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/;

const spec = closedObject(
  {
    controllerName: checked(z.string().max(253), (v) =>
      CONTROLLER_NAME.test(v) ? undefined : `must be a domain-prefixed path such as ${describeValue(TRELLIS_GATEWAY_CONTROLLER)}, got ${describeValue(v)}`,
    ),
    description: z.string().max(64).optional(),
  },
  { parametersRef: 'Trellis gateways take their settings from the trellis gateway command line' },
);

const gatewayClassSchema = envelope('GatewayClass', [GATEWAY_API_VERSION, 'gateway.networking.k8s.io/v1beta1'], clusterMetadata('GatewayClass', checkDns1123Subdomain), spec);

export function parseGatewayClass(raw: unknown): Result<GatewayClass, Problem[]> {
  const r = parseWithSchema(gatewayClassSchema, raw);
  if (!r.ok) return r;
  const { metadata, spec: s } = r.value;
  return ok({
    apiVersion: GATEWAY_API_VERSION,
    kind: 'GatewayClass',
    metadata: toObjectMeta(metadata),
    spec: { controllerName: s.controllerName, ...(s.description !== undefined ? { description: s.description } : {}) },
  });
}
