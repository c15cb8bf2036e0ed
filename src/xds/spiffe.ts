// SPIFFE IDs of workloads (`spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>`) and the
// names of the two SDS secrets every Trellis proxy uses: the contract shared by both planes.

/** SDS secret with the workload's certificate chain (its key never leaves the proxy). */
export const WORKLOAD_SECRET = 'default';
/** SDS secret with the trust bundle (every root the mesh trusts now). */
export const ROOT_SECRET = 'ROOTCA';
/** The node metadata field carrying the proxy's PEM CSR. */
export const CSR_METADATA_FIELD = 'csr';
/** gRPC metadata key the proxy presents its join token in. */
export const JOIN_TOKEN_HEADER = 'authorization';

export const DEFAULT_TRUST_DOMAIN = 'trellis.local';

export interface SpiffeId {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}

const SEGMENT = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const TRUST_DOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** The SPIFFE ID URI of a workload identity. */
export function spiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/** Parses a Trellis SPIFFE ID; undefined when `uri` is not one. */
export function parseSpiffeId(uri: string): SpiffeId | undefined {
  const m = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(uri);
  if (!m || !TRUST_DOMAIN.test(m[1]!) || !SEGMENT.test(m[2]!) || !SEGMENT.test(m[3]!)) return undefined;
  return { trustDomain: m[1]!, namespace: m[2]!, serviceAccount: m[3]! };
}

/** Why `domain` is not a valid trust domain, or undefined. */
export function trustDomainProblem(domain: string): string | undefined {
  return TRUST_DOMAIN.test(domain) && domain.length <= 255 ? undefined : `must be lower-case letters, digits, '-' and '.', got ${JSON.stringify(domain)}`;
}
