// Parsing a Service (core v1 shape): selector, ports, protocol defaults.
import { z } from 'zod';
import type { Result } from '../common/result.js';
import { err, ok } from '../common/result.js';
import type { AppProtocol, Service, ServicePort } from './resource.js';
import { envelope, labelMap, namespacedMetadata, toNamespacedMeta } from './metadata.js';
import { checkDns1123Label } from './names.js';
import type { Problem } from './problem.js';
import { describeValue, formatPath } from './problem.js';
import { checkServiceAccounts, SERVICE_ACCOUNTS_ANNOTATION } from './service-accounts.js';
import { checked, closedObject, fieldOf, parseWithSchema, uniqueItems } from './schema-kit.js';

/** Application protocols accepted in `appProtocol`; `kubernetes.io/h2c` is Kubernetes' name for cleartext HTTP/2. */
export const APP_PROTOCOLS: readonly AppProtocol[] = ['http', 'http2', 'grpc', 'tcp'];
const APP_PROTOCOL_ALIASES: Readonly<Record<string, AppProtocol>> = { 'kubernetes.io/h2c': 'http2' };

const portNumber = z.int().min(1).max(65535);

const protocol = checked(z.string(), (v) => {
  if (v === 'TCP') return undefined;
  if (v === 'UDP' || v === 'SCTP') return `protocol ${v} is not supported; only "TCP" is, got ${describeValue(v)}`;
  return `must be "TCP", got ${describeValue(v)}`;
});

const appProtocol = checked(z.string(), (v) =>
  APP_PROTOCOLS.includes(v as AppProtocol) || v in APP_PROTOCOL_ALIASES
    ? undefined
    : `must be one of ${[...APP_PROTOCOLS, ...Object.keys(APP_PROTOCOL_ALIASES)].map((p) => describeValue(p)).join(', ')}, got ${describeValue(v)}`,
);

const port = closedObject(
  {
    name: checked(z.string(), checkDns1123Label).optional(),
    port: portNumber,
    targetPort: z
      .int({ error: (iss) => (typeof iss.input === 'string' ? `must be a port number; named target ports are not supported, got ${describeValue(iss.input)}` : undefined) })
      .min(1)
      .max(65535)
      .optional(),
    protocol: protocol.default('TCP'),
    appProtocol: appProtocol.default('http'),
  },
  { nodePort: 'Trellis Services are mesh-internal; remove it' },
);

/**
 * The most ports a Service may declare. Kubernetes' EndpointSlice holds at most 100 ports, and
 * every port becomes a listener, a cluster and endpoints on every proxy that calls the Service.
 */
export const MAX_SERVICE_PORTS = 100;

let ports = z
  .array(port)
  .min(1)
  .max(MAX_SERVICE_PORTS, {
    error: (iss) =>
      `must have at most ${MAX_SERVICE_PORTS} ports, got ${Array.isArray(iss.input) ? iss.input.length : describeValue(iss.input)} (each port becomes a listener, a cluster and endpoints on every calling proxy)`,
  });
ports = uniqueItems(ports, 'ports', ['name'], (p) => fieldOf(p, 'name') as string | undefined, 'port name');
ports = uniqueItems(ports, 'ports', ['port'], (p) => (typeof fieldOf(p, 'port') === 'number' ? (fieldOf(p, 'port') as number) : undefined), 'port');

const spec = closedObject(
  {
    selector: checked(labelMap(), (m) => (Object.keys(m).length === 0 ? 'must select at least one label, got an empty map' : undefined)),
    ports,
  },
  {
    type: 'Trellis Services are always mesh-internal (like ClusterIP); remove it',
    clusterIP: 'the control plane allocates every Service its virtual IP (see MeshConfig spec.virtualIpRange); remove it',
    clusterIPs: 'the control plane allocates every Service its virtual IP (see MeshConfig spec.virtualIpRange); remove it',
    sessionAffinity: 'not implemented; remove it',
  },
);

const serviceSchema = envelope('Service', ['v1'], namespacedMetadata(checkDns1123Label), spec);

/** Parses a raw Service document; defaults applied (targetPort = port, protocol TCP, appProtocol http). */
export function parseService(raw: unknown): Result<Service, Problem[]> {
  const r = parseWithSchema(serviceSchema, raw);
  if (!r.ok) return r;
  const s = r.value;
  const accounts = s.metadata.annotations?.[SERVICE_ACCOUNTS_ANNOTATION];
  const accountsProblem = accounts === undefined ? undefined : checkServiceAccounts(accounts);
  if (accountsProblem !== undefined) return err([{ path: formatPath(['metadata', 'annotations', SERVICE_ACCOUNTS_ANNOTATION]), message: accountsProblem }]);
  const outPorts = s.spec.ports.map((p): ServicePort => ({
    ...(p.name !== undefined ? { name: p.name } : {}),
    port: p.port,
    targetPort: p.targetPort ?? p.port,
    protocol: 'TCP',
    appProtocol: APP_PROTOCOL_ALIASES[p.appProtocol] ?? (p.appProtocol as AppProtocol),
  }));
  const service: Service = { apiVersion: 'v1', kind: 'Service', metadata: toNamespacedMeta(s.metadata), spec: { selector: s.spec.selector, ports: outPorts } };
  return ok(service);
}
