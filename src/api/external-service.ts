// Parsing an ExternalService: hosts outside the mesh that workloads may call (Istio's
// ServiceEntry with MESH_EXTERNAL, Kuma's MeshExternalService), with TLS origination.
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { z } from 'zod';
import type { Result } from '../common/result.js';
import { ok } from '../common/result.js';
import type { ObjectMeta } from './resource.js';
import { envelope, namespacedMetadata, toNamespacedMeta } from './metadata.js';
import { checkDns1123Label, checkDns1123Subdomain } from './names.js';
import type { Problem } from './problem.js';
import { describeValue } from './problem.js';
import { checked, closedObject, fieldOf, parseWithSchema, uniqueItems } from './schema-kit.js';

/**
 * What an external port speaks. `http`: plain HTTP from the application, routed by Host (and
 * originated as TLS when `tls.mode` is Originate). `https` and `tls`: the application's own
 * TLS, passed through as opaque TCP. `tcp`: opaque TCP.
 */
export type ExternalProtocol = 'http' | 'https' | 'tls' | 'tcp';
export const EXTERNAL_PROTOCOLS: readonly ExternalProtocol[] = ['http', 'https', 'tls', 'tcp'];

export interface ExternalPort {
  name?: string;
  /** The port the application calls. */
  port: number;
  /** The port the proxy connects to on the external host (default: `port`); e.g. 443 behind an `http` port with TLS origination. */
  targetPort: number;
  protocol: ExternalProtocol;
}
export interface ExternalEndpoint {
  /** An IP address. */
  address: string;
  /** Absent: the port's targetPort. */
  port?: number;
}
export interface ExternalTls {
  mode: 'Originate';
  /** The server name sent (SNI) and checked against the certificate; absent: the host called. */
  sni?: string;
  /** PEM CA certificates the server's chain must end in; absent: the system's CAs. */
  caCertificates?: string;
}
export interface ExternalServiceSpec {
  /** Exact DNS names (no wildcards: each host gets a virtual IP and its own resolution). */
  hosts: string[];
  ports: ExternalPort[];
  /** Static addresses; absent: the proxy resolves each host with DNS when it connects. */
  endpoints?: ExternalEndpoint[];
  tls?: ExternalTls;
}
export interface ExternalService {
  apiVersion: 'trellis.dev/v1alpha1';
  kind: 'ExternalService';
  metadata: ObjectMeta & { namespace: string };
  spec: ExternalServiceSpec;
}

/** Hosts and ports per resource: each host:port becomes a cluster and a listener chain on every proxy of the mesh. */
export const MAX_EXTERNAL_HOSTS = 16;
export const MAX_EXTERNAL_PORTS = 16;
export const MAX_EXTERNAL_ENDPOINTS = 64;
/** Inline CA bundles are pushed to every proxy; a bundle of a few dozen certificates fits. */
export const MAX_CA_PEM_BYTES = 64 * 1024;

const portNumber = z.int().min(1).max(65535);

/** Why `s` is not an exact external host name, or `undefined`. */
export function checkExternalHost(s: string): string | undefined {
  if (s.startsWith('*'))
    return `wildcards are not supported: each host gets its own virtual IP and DNS resolution, so name every host (e.g. "api.example.com"), got ${describeValue(s)}`;
  if (isIP(s) !== 0) return `must be a host name, not an IP address (give addresses in spec.endpoints), got ${describeValue(s)}`;
  if (!s.includes('.')) return `must be a fully qualified name with at least one dot (a single label would shadow mesh names), got ${describeValue(s)}`;
  return checkDns1123Subdomain(s);
}

const protocol = checked(z.string(), (v) =>
  EXTERNAL_PROTOCOLS.includes(v as ExternalProtocol) ? undefined : `must be one of ${EXTERNAL_PROTOCOLS.map((p) => describeValue(p)).join(', ')}, got ${describeValue(v)}`,
);

const port = closedObject({
  name: checked(z.string(), checkDns1123Label).optional(),
  port: portNumber,
  targetPort: portNumber.optional(),
  protocol,
});

let ports = z.array(port).min(1).max(MAX_EXTERNAL_PORTS);
ports = uniqueItems(ports, 'ports', ['name'], (p) => fieldOf(p, 'name') as string | undefined, 'port name');
ports = uniqueItems(ports, 'ports', ['port'], (p) => (typeof fieldOf(p, 'port') === 'number' ? (fieldOf(p, 'port') as number) : undefined), 'port');

let hosts = z.array(checked(z.string(), checkExternalHost)).min(1).max(MAX_EXTERNAL_HOSTS);
hosts = uniqueItems(hosts, 'hosts', [], (h) => (typeof h === 'string' ? h : undefined), 'host');

const endpoint = closedObject({
  address: checked(z.string(), (a) => (isIP(a) !== 0 ? undefined : `must be an IP address (leave spec.endpoints out to resolve the hosts with DNS), got ${describeValue(a)}`)),
  port: portNumber.optional(),
});

/** Why `pem` is not a bundle of PEM certificates, or `undefined`. */
export function checkCaCertificates(pem: string): string | undefined {
  if (pem.length > MAX_CA_PEM_BYTES) return `must be at most ${MAX_CA_PEM_BYTES} bytes of PEM, got ${pem.length}`;
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return 'must hold at least one PEM certificate ("-----BEGIN CERTIFICATE-----")';
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (e) {
      return `certificate ${i + 1} of ${blocks.length} is not a valid X.509 certificate: ${(e as Error).message}`;
    }
  }
  return undefined;
}

const tls = closedObject(
  {
    mode: checked(z.string(), (m) => (m === 'Originate' ? undefined : `must be "Originate", got ${describeValue(m)}`)),
    sni: checked(z.string(), checkDns1123Subdomain).optional(),
    caCertificates: checked(z.string(), checkCaCertificates).optional(),
  },
  {
    insecureSkipVerify: 'the server certificate is always checked; give its CA in caCertificates',
    clientCertificate: 'mutual TLS to external servers is not implemented yet',
  },
);

const spec = closedObject(
  {
    hosts,
    ports,
    endpoints: z.array(endpoint).min(1).max(MAX_EXTERNAL_ENDPOINTS).optional(),
    tls: tls.optional(),
  },
  {
    egressGateway: 'routing through an egress gateway is the next step (docs/egress.md) and not implemented yet; remove it',
    resolution: 'set by spec.endpoints: static addresses when given, else DNS; remove it',
    location: 'an ExternalService is always outside the mesh; remove it',
  },
);

const externalServiceSchema = envelope('ExternalService', ['trellis.dev/v1alpha1'], namespacedMetadata(checkDns1123Label), spec).superRefine((r, ctx) => {
  // Origination turns plain HTTP into TLS; on a port where the application already speaks TLS it would wrap it twice.
  if (r.spec.tls === undefined || r.spec.ports.some((p) => p.protocol === 'http')) return;
  ctx.addIssue({
    code: 'custom',
    path: ['spec', 'tls'],
    message: `TLS origination applies to ports with protocol "http" (the application speaks plain HTTP, the proxy TLS), and no port has it (ports: ${r.spec.ports.map((p) => `${p.port}/${p.protocol}`).join(', ')})`,
    input: r.spec.tls,
  });
});

/** Parses a raw ExternalService document; defaults applied (targetPort = port). */
export function parseExternalService(raw: unknown): Result<ExternalService, Problem[]> {
  const r = parseWithSchema(externalServiceSchema, raw);
  if (!r.ok) return r;
  const s = r.value.spec;
  const spec: ExternalServiceSpec = {
    hosts: s.hosts,
    ports: s.ports.map((p) => ({ ...(p.name !== undefined ? { name: p.name } : {}), port: p.port, targetPort: p.targetPort ?? p.port, protocol: p.protocol as ExternalProtocol })),
    ...(s.endpoints ? { endpoints: s.endpoints.map((e) => ({ address: e.address, ...(e.port !== undefined ? { port: e.port } : {}) })) } : {}),
    ...(s.tls
      ? {
          tls: {
            mode: 'Originate',
            ...(s.tls.sni !== undefined ? { sni: s.tls.sni } : {}),
            ...(s.tls.caCertificates !== undefined ? { caCertificates: s.tls.caCertificates } : {}),
          },
        }
      : {}),
  };
  return ok({ apiVersion: 'trellis.dev/v1alpha1', kind: 'ExternalService', metadata: toNamespacedMeta(r.value.metadata), spec });
}
