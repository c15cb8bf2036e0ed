// Workload identity for the xDS server: a join token names the one service (and namespace) a
// proxy may be and the labels it may claim, and the CA signs that service's SPIFFE ID for the
// proxy's CSR, whatever the CSR asks for.
import { err, ok } from '../common/result.js';
import { spiffeId } from '../xds/spiffe.js';
import type { TokenStore } from './auth/index.js';
import type { CertificateAuthority } from './ca/index.js';
import type { StreamSecurity } from './xds-server/stream-security.js';

/** The StreamSecurity of a control plane with `ca` and `tokens`. */
export function workloadIdentity(ca: CertificateAuthority, tokens: TokenStore): StreamSecurity {
  return {
    authenticate(token) {
      if (token === undefined) return err('no join token was presented (authorization: Bearer <token>); create one with `trellis token create --service NAME`');
      const r = tokens.verify(token, ['join']);
      if (!r.ok) return err(r.error.message);
      const { id: tokenId, service, namespace, labels } = r.value;
      return ok({ tokenId, service: service!, namespace: namespace ?? 'default', ...(labels !== undefined ? { labels } : {}) });
    },
    async issue(principal, csrPem) {
      const notBefore = new Date();
      const r = await ca.issue(csrPem, spiffeId(ca.trustDomain, principal.namespace, principal.service));
      return r.ok ? ok({ chainPem: r.value.certificateChainPem, notBefore, notAfter: r.value.notAfter }) : err(r.error.message);
    },
    trustBundle: () => ca.trustBundlePem(),
    onRevoke: (fn) => tokens.onRevoke(fn),
    onBundleChange: (fn) => ca.onBundleChange(fn),
  };
}
