// The catalog of problems the proxy's xDS client reports when it refuses (NACKs) a resource
// or cannot reach the control plane. Codes are stable; messages say what, the value, and
// what was expected.

/** Stable codes of the problems found in xDS resources. */
export const XDS_PROBLEM = {
  /** A field the proxy needs is absent or empty. */
  REQUIRED: 'XDS_REQUIRED',
  /** A field has a value of the wrong shape or out of range. */
  INVALID: 'XDS_INVALID',
  /** Valid Envoy config that the Trellis proxy does not implement. */
  UNSUPPORTED: 'XDS_UNSUPPORTED',
  /** Two resources (or listeners on one address) share a name. */
  DUPLICATE: 'XDS_DUPLICATE',
  /** A listener or route names a cluster that is not in the accepted CDS set. */
  UNKNOWN_CLUSTER: 'XDS_UNKNOWN_CLUSTER',
  /** A resource in a response is not of the response's type. */
  WRONG_TYPE: 'XDS_WRONG_TYPE',
  /** The data plane refused to apply a config that decoded cleanly. */
  APPLY_FAILED: 'XDS_APPLY_FAILED',
} as const;

export type XdsProblemCode = (typeof XDS_PROBLEM)[keyof typeof XDS_PROBLEM];

/** One thing wrong with one resource, found while decoding or checking consistency. */
export interface Problem {
  readonly code: XdsProblemCode;
  /** The resource, e.g. `listener "outbound|127.0.0.1:9001"`. */
  readonly resource: string;
  /** Field path inside the resource, e.g. `filterChains[0].filters[0].typedConfig`; empty for the whole resource. */
  readonly path: string;
  readonly message: string;
}

/** `listener "x": filterChains[0]: required` — the form operators see in NACKs and logs. */
export function formatProblem(p: Problem): string {
  return p.path ? `${p.resource}: ${p.path}: ${p.message}` : `${p.resource}: ${p.message}`;
}

/** All problems as one NACK message, one per line. */
export function formatProblems(problems: readonly Problem[]): string {
  return problems.map(formatProblem).join('\n');
}

/** A short rendering of an offending value for messages (JSON, cut at 80 characters). */
export function show(value: unknown): string {
  let s: string;
  try {
    s = value === undefined ? 'undefined' : (JSON.stringify(value) ?? String(value));
  } catch {
    s = String(value);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
