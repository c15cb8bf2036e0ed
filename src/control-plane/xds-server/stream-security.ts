// What the xDS server needs to secure its streams, so it knows nothing of tokens and CAs: who a
// stream's join token says the proxy is, a signed certificate for the proxy's CSR, and the trust
// bundle. Implemented in control-plane/workload-identity.ts.
import type { Result } from '../../common/result.js';

/** The identity a valid join token grants. */
export interface StreamPrincipal {
  /** Safe to log. */
  tokenId: string;
  service: string;
  namespace: string;
  /**
   * The labels besides `app` its proxy may claim, each with the one value allowed; undefined:
   * any. `app` is always the service.
   */
  labels?: Readonly<Record<string, string>>;
}

/** A workload certificate as issued: the chain the proxy gets over SDS, and when it is valid. */
export interface IssuedWorkloadCertificate {
  chainPem: string;
  notBefore: Date;
  notAfter: Date;
}

export interface StreamSecurity {
  /** The principal of a stream's `authorization: Bearer <token>` (undefined: none presented). */
  authenticate(token: string | undefined): Result<StreamPrincipal, string>;
  /** The workload chain (PEM, leaf first) for `csrPem`, with the principal's SPIFFE ID, and its validity. */
  issue(principal: StreamPrincipal, csrPem: string): Promise<Result<IssuedWorkloadCertificate, string>>;
  /** The trust bundle (PEM, newest root first). */
  trustBundle(): string;
  /** `fn(tokenId)` when a join token is revoked; answers an unsubscribe. */
  onRevoke(fn: (tokenId: string) => void): () => void;
  /** `fn()` when the trust bundle changes; answers an unsubscribe. */
  onBundleChange(fn: () => void): () => void;
}
