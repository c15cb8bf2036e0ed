// What the control plane reports about each connected proxy (`GET /api/v1/proxies`): the
// config versions it accepted and the ones it refused, with its reasons. Shared by the xDS
// server that fills it, the REST API that serves it and the CLI that prints it.

/** The last version of each xDS type a proxy acknowledged ('' if none yet). */
export interface ProxyVersions {
  listeners: string;
  routes: string;
  clusters: string;
  endpoints: string;
  /** SDS (certificates), when the mesh runs mTLS. */
  secrets?: string;
}

/** One refusal (NACK) of a response by a proxy. */
export interface ProxyNack {
  typeUrl: string;
  /** The version the proxy refused. */
  version: string;
  nonce: string;
  /** The proxy's reason (error_detail.message). */
  message: string;
  /** When the NACK arrived (RFC 3339). */
  at: string;
}

/** A response the control plane computed for a proxy but could not send: larger than the xDS message limit. */
export interface UndeliveredConfig {
  typeUrl: string;
  /** The version not sent; the proxy keeps its last accepted one of this type. */
  version: string;
  /** Its encoded size. */
  bytes: number;
  /** The limit it is over (the control plane's maximum xDS message size). */
  limitBytes: number;
  /** The same in words, e.g. `listeners version 3a... is 4214063 bytes (4.0 MiB) encoded, over ...`. */
  message: string;
  /** When it was last refused (RFC 3339). */
  at: string;
}

export interface ProxyStatus {
  id: string;
  /** `grpc` for a proxyless gRPC application (through `trellis bootstrap --grpc`), `gateway` for an ingress gateway (`trellis gateway`); absent for a sidecar (a Trellis or Envoy proxy), as in node metadata. */
  kind?: 'grpc' | 'gateway';
  /** The xDS client's name and version as its node says (`user_agent_name`, `user_agent_version`), e.g. `grpc-node-js` `1.14.1`. */
  userAgent?: { name: string; version: string };
  service: string;
  namespace: string;
  address: string;
  connected: boolean;
  /** RFC 3339. */
  lastSeen: string;
  /** What the proxy reports of its endpoint: `ready`, `not-ready` (out of load balancing) or `draining`; absent when it does not report it. */
  readiness?: string;
  versions: ProxyVersions;
  /** Recent refusals, oldest first. */
  nacks: ProxyNack[];
  /** Config computed for this proxy that could not be sent (too large), one per type; empty when everything was delivered. */
  undelivered?: UndeliveredConfig[];
  /** Problems met building this proxy's config (unknown upstream, missing backend, ...). */
  warnings?: string[];
  /** The proxy's admin port on 127.0.0.1 (metrics, tap), while its stream is open. */
  adminPort?: number;
  /** The proxy's admin Unix socket, when it serves one (a proxy in another network namespace): the control plane reaches its admin there. */
  adminSocket?: string;
  /** The versions of the config the control plane computed for this proxy last; equal to `versions` when it is in sync. */
  current?: ProxyVersions;
  /** The workload's labels (with `app`). */
  labels?: Record<string, string>;
  /** The workload certificate the control plane last issued to it on its open stream (mTLS meshes). */
  certificate?: ProxyCertificate;
}

/** A workload certificate's validity (RFC 3339). */
export interface ProxyCertificate {
  notBefore: string;
  notAfter: string;
}
