// What a Trellis proxy tells the control plane about itself in the xDS Node (field
// `metadata`, a google.protobuf.Struct). The registry builds workloads from it and the
// translator uses it to lay out the proxy's listeners.
import { isIP } from 'node:net';
import { unixSocketPathProblem } from '../common/listen-unix.js';
import { err, ok, type Result } from '../common/result.js';
import type { JsonValue } from './envoy-types.js';

/** A local port of the application, fronted by an inbound listener of the proxy. */
export interface InboundPort {
  /** The port the proxy listens on for traffic to this application port (what other proxies dial). */
  port: number;
  /** The application's own port on 127.0.0.1. */
  appPort: number;
}

/** Explicit-mode outbound: a local listener for one port of one upstream Service. */
export interface Upstream {
  service: string;
  namespace: string;
  /** The Service port to reach. */
  port: number;
  /** The local port (on 127.0.0.1) the application connects to. */
  localPort: number;
}

/**
 * What kind of data plane the node is: a Trellis (or Envoy) sidecar, a proxyless gRPC
 * application (through `trellis bootstrap --grpc`), which asks for listeners by target name
 * and has no admin listener of its own, or an ingress gateway (`trellis gateway`): a proxy
 * with no workload, whose listeners come from the Gateway named like its service.
 */
export type NodeKind = 'sidecar' | 'grpc' | 'gateway';
export const NODE_KINDS: readonly NodeKind[] = ['sidecar', 'grpc', 'gateway'];

export interface ProxyMetadata {
  /** Absent: `sidecar`. */
  kind?: NodeKind;
  /** The service this workload belongs to; also the default `app` label. */
  service: string;
  namespace: string;
  /** Labels of the workload (e.g. `version: v2`); `app: <service>` is implied when absent. */
  labels: Record<string, string>;
  /** The address other proxies use to reach this proxy's inbound listeners. */
  address: string;
  inbound: InboundPort[];
  /** Port of the HTTP proxy listener (`HTTP_PROXY`) on 127.0.0.1, if any. */
  httpProxyPort?: number;
  upstreams: Upstream[];
  /** Port of the admin listener (ready, config_dump, metrics) on 127.0.0.1; required of sidecars, absent for proxyless gRPC. */
  adminPort?: number;
  /**
   * The admin listener's Unix socket (absolute path), when it also serves one: a proxy in
   * another network namespace, whose 127.0.0.1 the control plane cannot reach, is reached here.
   */
  adminSocket?: string;
  /** Transparent mode: iptables sends the workload's traffic to these ports (see docs/transparent.md). */
  capture?: CapturePorts;
}

/** The ports of a proxy in transparent mode, on every address of its network namespace. */
export interface CapturePorts {
  /** Every captured inbound TCP connection arrives here. */
  inboundPort: number;
  /** Every captured outbound TCP connection arrives here. */
  outboundPort: number;
  /** The DNS responder (UDP), if the workload's DNS is captured. */
  dnsPort?: number;
  /**
   * Inbound ports the operator excluded from capture: the application answers them itself, in
   * plaintext, so callers' proxies must not dial them with mTLS (see undeclared-ports.ts).
   */
  excludeInboundPorts?: number[];
}

// ---- Parsing and encoding (added for the control plane's xDS server and the proxy's xDS client) ----

/** google.protobuf.Struct in the object form protobufjs encodes and decodes (`{ fields: { k: { stringValue } } }`). */
export interface ProtoStruct {
  fields?: Record<string, ProtoValue>;
}
export interface ProtoValue {
  nullValue?: 'NULL_VALUE' | 0;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: ProtoStruct;
  listValue?: { values?: ProtoValue[] };
}

/** Turns a decoded google.protobuf.Struct into plain JSON. */
export function structToJson(struct: ProtoStruct | undefined | null): { [key: string]: JsonValue } {
  const out: { [key: string]: JsonValue } = {};
  for (const [key, value] of Object.entries(struct?.fields ?? {})) out[key] = protoValueToJson(value);
  return out;
}

function protoValueToJson(v: ProtoValue | undefined): JsonValue {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.numberValue !== undefined) return Number(v.numberValue);
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.structValue !== undefined) return structToJson(v.structValue);
  if (v.listValue !== undefined) return (v.listValue.values ?? []).map(protoValueToJson);
  return null;
}

/** Turns plain JSON into a google.protobuf.Struct object that protobufjs can encode. */
export function jsonToStruct(json: { [key: string]: JsonValue }): ProtoStruct {
  const fields: Record<string, ProtoValue> = {};
  for (const [key, value] of Object.entries(json)) if (value !== undefined) fields[key] = jsonToProtoValue(value);
  return { fields };
}

function jsonToProtoValue(v: JsonValue): ProtoValue {
  if (v === null) return { nullValue: 'NULL_VALUE' };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(jsonToProtoValue) } };
  return { structValue: jsonToStruct(v) };
}

/** The node metadata as a google.protobuf.Struct, for the `metadata` field of the xDS Node. */
export function proxyMetadataToStruct(m: ProxyMetadata): ProtoStruct {
  const json: { [key: string]: JsonValue } = {
    ...(m.kind !== undefined && m.kind !== 'sidecar' ? { kind: m.kind } : {}),
    service: m.service,
    namespace: m.namespace,
    labels: { ...m.labels },
    address: m.address,
    inbound: m.inbound.map((i) => ({ port: i.port, appPort: i.appPort })),
    upstreams: m.upstreams.map((u) => ({ service: u.service, namespace: u.namespace, port: u.port, localPort: u.localPort })),
  };
  if (m.adminPort !== undefined) json.adminPort = m.adminPort;
  if (m.httpProxyPort !== undefined) json.httpProxyPort = m.httpProxyPort;
  if (m.adminSocket !== undefined) json.adminSocket = m.adminSocket;
  if (m.capture !== undefined) {
    json.capture = { inboundPort: m.capture.inboundPort, outboundPort: m.capture.outboundPort };
    if (m.capture.dnsPort !== undefined) json.capture.dnsPort = m.capture.dnsPort;
    if (m.capture.excludeInboundPorts?.length) json.capture.excludeInboundPorts = [...m.capture.excludeInboundPorts];
  }
  return jsonToStruct(json);
}

/**
 * Parses node metadata given as plain JSON (see structToJson). `namespace` defaults to
 * `default`, `labels`, `inbound` and `upstreams` to empty, an upstream's `namespace` to the
 * proxy's. Unknown keys are ignored (Envoy nodes may carry other metadata). Every problem is
 * reported with its path, e.g. `metadata.inbound[0].port: must be an integer from 1 to 65535, got "x"`.
 */
export function parseProxyMetadata(raw: unknown): Result<ProxyMetadata, string[]> {
  const problems: string[] = [];
  if (!isObject(raw)) return err([`metadata: must be an object, got ${show(raw)}`]);
  const kind = raw.kind === undefined ? 'sidecar' : NODE_KINDS.find((k) => k === raw.kind);
  if (kind === undefined) return err([`metadata.kind: must be one of ${NODE_KINDS.join(', ')}, got ${show(raw.kind)}`]);
  const service = str(raw.service, 'metadata.service', problems);
  const namespace = raw.namespace === undefined ? 'default' : str(raw.namespace, 'metadata.namespace', problems);
  const address = str(raw.address, 'metadata.address', problems);
  if (address && isIP(address) === 0) problems.push(`metadata.address: must be an IPv4 or IPv6 address, got ${show(address)}`);
  const labels: Record<string, string> = {};
  if (raw.labels !== undefined) {
    if (!isObject(raw.labels)) problems.push(`metadata.labels: must be an object of strings, got ${show(raw.labels)}`);
    else
      for (const [k, v] of Object.entries(raw.labels)) {
        // Assigning `__proto__` would replace the prototype and drop the label silently.
        if (k === '__proto__') problems.push(`metadata.labels.${k}: is not allowed as a label key`);
        else if (typeof v === 'string') labels[k] = v;
        else problems.push(`metadata.labels.${k}: must be a string, got ${show(v)}`);
      }
  }
  const inbound = list(raw.inbound, 'metadata.inbound', problems).map((e, i): InboundPort => {
    const path = `metadata.inbound[${i}]`;
    if (!isObject(e)) {
      problems.push(`${path}: must be an object {port, appPort}, got ${show(e)}`);
      return { port: 0, appPort: 0 };
    }
    return { port: port(e.port, `${path}.port`, problems), appPort: port(e.appPort, `${path}.appPort`, problems) };
  });
  const upstreams = list(raw.upstreams, 'metadata.upstreams', problems).map((e, i): Upstream => {
    const path = `metadata.upstreams[${i}]`;
    if (!isObject(e)) {
      problems.push(`${path}: must be an object {service, namespace, port, localPort}, got ${show(e)}`);
      return { service: '', namespace: '', port: 0, localPort: 0 };
    }
    return {
      service: str(e.service, `${path}.service`, problems),
      namespace: e.namespace === undefined ? namespace : str(e.namespace, `${path}.namespace`, problems),
      port: port(e.port, `${path}.port`, problems),
      localPort: port(e.localPort, `${path}.localPort`, problems),
    };
  });
  // A proxyless gRPC node has no admin listener; only its inbound ports (where its server listens) matter.
  const adminPort = kind === 'grpc' && raw.adminPort === undefined ? undefined : port(raw.adminPort, 'metadata.adminPort', problems);
  if (kind === 'grpc') {
    if (upstreams.length > 0) problems.push('metadata.upstreams: a proxyless gRPC node (kind grpc) has no upstreams (it calls xds:/// targets); remove them');
    for (const field of ['httpProxyPort', 'adminSocket', 'capture'] as const) {
      if (raw[field] !== undefined) problems.push(`metadata.${field}: a proxyless gRPC node (kind grpc) has no ${field}; remove it`);
    }
    inbound.forEach((e, i) => {
      if (e.port !== e.appPort) problems.push(`metadata.inbound[${i}]: a proxyless gRPC server listens itself, so port and appPort must be equal, got ${e.port} and ${e.appPort}`);
    });
  }
  if (kind === 'gateway') {
    // A gateway fronts no application: its listeners are its Gateway's.
    for (const field of ['inbound', 'upstreams', 'httpProxyPort', 'capture'] as const) {
      const v = raw[field];
      if (v !== undefined && !(Array.isArray(v) && v.length === 0))
        problems.push(`metadata.${field}: a gateway (kind gateway) has no ${field}: its listeners come from its Gateway; remove it`);
    }
  }
  const httpProxyPort = raw.httpProxyPort === undefined ? undefined : port(raw.httpProxyPort, 'metadata.httpProxyPort', problems);
  const adminSocket = raw.adminSocket === undefined ? undefined : socketPath(raw.adminSocket, 'metadata.adminSocket', problems);
  const capture = parseCapture(raw.capture, problems);
  duplicates(
    inbound.map((e) => e.port),
    (p, i) => `metadata.inbound[${i}].port: ${p} is already used by another inbound entry`,
    problems,
  );
  // Local ports all live on 127.0.0.1, so they must differ from each other.
  // Inbound listeners share 127.0.0.1 with them when that is the proxy's address (plain hosts).
  const local = address === '127.0.0.1' ? inbound.map((e, i) => ({ port: e.port, path: `metadata.inbound[${i}].port` })) : [];
  local.push(...upstreams.map((u, i) => ({ port: u.localPort, path: `metadata.upstreams[${i}].localPort` })));
  if (httpProxyPort !== undefined) local.push({ port: httpProxyPort, path: 'metadata.httpProxyPort' });
  if (adminPort !== undefined) local.push({ port: adminPort, path: 'metadata.adminPort' });
  // Capture listeners bind every address, so they clash with every other port of the proxy.
  if (capture !== undefined) {
    if (address !== '127.0.0.1')
      local.push(
        ...inbound.map((e, i) => ({ port: e.port, path: `metadata.inbound[${i}].port` })).filter((l) => l.port === capture.inboundPort || l.port === capture.outboundPort),
      );
    local.push({ port: capture.inboundPort, path: 'metadata.capture.inboundPort' }, { port: capture.outboundPort, path: 'metadata.capture.outboundPort' });
  }
  const seen = new Map<number, string>();
  for (const l of local) {
    if (l.port === 0) continue;
    const other = seen.get(l.port);
    if (other) problems.push(`${l.path}: ${l.port} is already used by ${other}`);
    else seen.set(l.port, l.path);
  }
  if (problems.length > 0) return err(problems);
  const m: ProxyMetadata = { service, namespace, labels, address, inbound, upstreams };
  if (kind !== 'sidecar') m.kind = kind;
  if (adminPort !== undefined) m.adminPort = adminPort;
  if (httpProxyPort !== undefined) m.httpProxyPort = httpProxyPort;
  if (adminSocket !== undefined) m.adminSocket = adminSocket;
  if (capture !== undefined) m.capture = capture;
  return ok(m);
}

function parseCapture(v: unknown, problems: string[]): CapturePorts | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) {
    problems.push(`metadata.capture: must be an object {inboundPort, outboundPort, dnsPort}, got ${show(v)}`);
    return undefined;
  }
  const c: CapturePorts = {
    inboundPort: port(v.inboundPort, 'metadata.capture.inboundPort', problems),
    outboundPort: port(v.outboundPort, 'metadata.capture.outboundPort', problems),
  };
  if (v.dnsPort !== undefined) c.dnsPort = port(v.dnsPort, 'metadata.capture.dnsPort', problems);
  const excluded = list(v.excludeInboundPorts, 'metadata.capture.excludeInboundPorts', problems).map((p, i) => port(p, `metadata.capture.excludeInboundPorts[${i}]`, problems));
  if (excluded.length > 0) c.excludeInboundPorts = excluded;
  return c;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  return v === undefined ? 'nothing' : JSON.stringify(v);
}

function str(v: unknown, path: string, problems: string[]): string {
  if (typeof v === 'string' && v.length > 0) return v;
  problems.push(`${path}: must be a non-empty string, got ${show(v)}`);
  return '';
}

function port(v: unknown, path: string, problems: string[]): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535) return v;
  problems.push(`${path}: must be an integer from 1 to 65535, got ${show(v)}`);
  return 0;
}

function socketPath(v: unknown, path: string, problems: string[]): string {
  const problem = typeof v === 'string' ? unixSocketPathProblem(v) : `must be an absolute path (a Unix socket), got ${show(v)}`;
  if (problem === undefined) return v as string;
  problems.push(`${path}: ${problem}`);
  return '';
}

function list(v: unknown, path: string, problems: string[]): unknown[] {
  if (v === undefined) return [];
  if (Array.isArray(v)) return v;
  problems.push(`${path}: must be a list, got ${show(v)}`);
  return [];
}

function duplicates(values: number[], message: (value: number, index: number) => string, problems: string[]): void {
  const seen = new Set<number>();
  values.forEach((v, i) => {
    if (v !== 0 && seen.has(v)) problems.push(message(v, i));
    seen.add(v);
  });
}
