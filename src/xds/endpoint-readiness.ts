// Whether a workload's endpoint may take traffic, as its proxy reports it in the xDS node
// metadata on every request: the contract shared by the proxy and the control plane.
import type { ProtoStruct } from './node-metadata.js';

/**
 * `ready`: the sidecar serves and the app passes its readiness check; `not-ready`: not yet, or
 * no longer; `draining`: shutting down, callers must stop sending new requests.
 */
export type EndpointReadiness = 'ready' | 'not-ready' | 'draining';

/** The node metadata field carrying the proxy's EndpointReadiness. */
export const READINESS_METADATA_FIELD = 'readiness';

const STATES: ReadonlySet<string> = new Set<EndpointReadiness>(['ready', 'not-ready', 'draining']);

/**
 * The readiness a node's metadata reports: undefined when the field is absent (a data plane that
 * does not report it, such as Envoy), `not-ready` for a value that is not one of the three.
 */
export function readinessOf(metadata: ProtoStruct | undefined | null): EndpointReadiness | undefined {
  const field = metadata?.fields?.[READINESS_METADATA_FIELD];
  if (field === undefined) return undefined;
  const v = field.stringValue;
  return v !== undefined && STATES.has(v) ? (v as EndpointReadiness) : 'not-ready';
}
