// Decodes SDS responses (Envoy `Secret`s) for the proxy's identity: the workload certificate
// chain (`default`, PEM in tlsCertificate.certificateChain.inlineString; no private key, the
// proxy made its own) and the trust bundle (`ROOTCA`, validationContext.trustedCa.inlineString);
// and for a gateway its listeners' certificates with their keys, only under the `gateway~` prefix.
import { err, ok, type Result } from '../../common/result.js';
import { ROOT_SECRET, WORKLOAD_SECRET } from '../../xds/spiffe.js';
import { SECRET_TYPE } from '../../xds/type-urls.js';
import { GATEWAY_SECRET_PREFIX } from '../../xds/names.js';
import { isObj } from './decode-fields.js';

/** A decoded secret: the chain of `default`, the bundle of `ROOTCA`, chain and key of a `gateway~` certificate. */
export interface DecodedSecret {
  chain?: string;
  bundle?: string;
  key?: string;
}

/** What takes the secrets: the proxy's identity. */
export interface SecretSink {
  readonly csr: string;
  /** Called when the identity made a new key and wants the control plane to sign its CSR. */
  onCsr: (csrPem: string) => void;
  apply(secrets: ReadonlyMap<string, DecodedSecret>): Result<void, string>;
  ready(): boolean;
}

const inline = (v: unknown): string | undefined => (isObj(v) && typeof v.inlineString === 'string' ? v.inlineString : undefined);

/** The secrets of one response by name, or the first problem. */
export function decodeSecrets(resources: readonly unknown[]): Result<Map<string, DecodedSecret>, string> {
  const out = new Map<string, DecodedSecret>();
  for (const [i, r] of resources.entries()) {
    if (!isObj(r) || r['@type'] !== SECRET_TYPE) return err(`resources[${i}]: must be a ${SECRET_TYPE}`);
    const name = r.name;
    if (name === WORKLOAD_SECRET) {
      if (isObj(r.tlsCertificate) && isObj(r.tlsCertificate.privateKey))
        return err(`secret ${WORKLOAD_SECRET}: carries a private key; Trellis proxies make their own and never accept one`);
      const chain = isObj(r.tlsCertificate) ? inline(r.tlsCertificate.certificateChain) : undefined;
      if (chain === undefined) return err(`secret ${WORKLOAD_SECRET}.tlsCertificate.certificateChain.inlineString: required`);
      out.set(name, { chain });
    } else if (name === ROOT_SECRET) {
      const bundle = isObj(r.validationContext) ? inline(r.validationContext.trustedCa) : undefined;
      if (bundle === undefined) return err(`secret ${ROOT_SECRET}.validationContext.trustedCa.inlineString: required`);
      out.set(name, { bundle });
    } else if (typeof name === 'string' && name.startsWith(GATEWAY_SECRET_PREFIX)) {
      const cert = isObj(r.tlsCertificate) ? r.tlsCertificate : {};
      const chain = inline(cert.certificateChain);
      const key = inline(cert.privateKey);
      if (chain === undefined) return err(`secret ${name}.tlsCertificate.certificateChain.inlineString: required`);
      if (key === undefined) return err(`secret ${name}.tlsCertificate.privateKey.inlineString: required (a gateway certificate comes with its key)`);
      out.set(name, { chain, key });
    } else {
      return err(`resources[${i}]: unknown secret ${JSON.stringify(name)} (expected ${WORKLOAD_SECRET}, ${ROOT_SECRET} or ${GATEWAY_SECRET_PREFIX}NAMESPACE~NAME)`);
    }
  }
  return ok(out);
}
