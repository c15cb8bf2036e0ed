// The proxy's workload identity: a P-256 key made in memory (it is never written anywhere and
// never leaves the process), the CSR the xDS client sends in node metadata, and the certificate
// chain and trust bundle that come back over SDS. Each accepted pair becomes one TLS secure
// context, swapped atomically: new connections use the newest, open ones keep theirs. A new key
// and CSR are made at half the certificate's lifetime, and at once when a new root appears.
import { X509Certificate, createPublicKey } from 'node:crypto';
import tls from 'node:tls';
import { err, ok, type Result } from '../../common/result.js';
import { generateKeyPair, privateKeyPem, splitPem, uriSans, x509Lib, P256 } from '../../common/x509.js';
import type { Logger } from '../../common/log.js';
import { parseSpiffeId, ROOT_SECRET, WORKLOAD_SECRET } from '../../xds/spiffe.js';

/** TLS 1.3 suites, then TLS 1.2 ECDHE-ECDSA AEAD suites only: nothing weak. */
export const MESH_CIPHERS =
  'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305';

/** Where the mesh's TLS contexts come from, read once per new connection. */
export interface TlsSource {
  /** The current context (key, chain and trust bundle), or undefined before the first certificate. */
  context(): tls.SecureContext | undefined;
  /** The options `context()` was made from (for tls.Server.setSecureContext). */
  contextOptions(): tls.SecureContextOptions | undefined;
  /** Changes whenever the context does. */
  readonly generation: number;
}

/** What the admin API and `trellis cert inspect` see (never the key). */
export interface IdentityStatus {
  spiffeId?: string;
  notBefore?: string;
  notAfter?: string;
  certificateChain?: string;
  roots: number;
  rotations: number;
}

interface KeyMaterial {
  keyPem: string;
  csrPem: string;
  publicDer: Buffer;
}

async function newKey(): Promise<KeyMaterial> {
  const x509 = await x509Lib();
  const keys = await generateKeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ keys, signingAlgorithm: P256, name: '' });
  const keyPem = await privateKeyPem(keys.privateKey);
  return { keyPem, csrPem: csr.toString('pem'), publicDer: publicDer(keyPem) };
}

/** The SubjectPublicKeyInfo of a key: what a certificate for it must carry. */
const publicDer = (keyPem: string): Buffer => createPublicKey(keyPem).export({ format: 'der', type: 'spki' });

export class ProxyIdentity implements TlsSource {
  #current: KeyMaterial;
  /** A key whose certificate has been asked for and has not come yet. */
  #pending: KeyMaterial | undefined;
  #chainPem: string | undefined;
  #leaf: X509Certificate | undefined;
  #bundlePem: string | undefined;
  #roots: X509Certificate[] = [];
  #context: tls.SecureContext | undefined;
  #contextOptions: tls.SecureContextOptions | undefined;
  #generation = 0;
  #timer: NodeJS.Timeout | undefined;
  #rotations = 0;
  #closed = false;
  /** Called with a new CSR to send to the control plane. */
  onCsr: (csrPem: string) => void = () => {};

  private constructor(
    key: KeyMaterial,
    private readonly log?: Logger,
    private readonly rotateAt = 0.5,
  ) {
    this.#current = key;
  }

  /** A new identity with a fresh key; `rotateAt` is the fraction of a new certificate's remaining life after which it is renewed. */
  static async create(log?: Logger, rotateAt = 0.5): Promise<ProxyIdentity> {
    return new ProxyIdentity(await newKey(), log, rotateAt);
  }

  /** The CSR to send now (the pending key's while a rotation is under way). */
  get csr(): string {
    return (this.#pending ?? this.#current).csrPem;
  }

  context(): tls.SecureContext | undefined {
    return this.#context;
  }

  contextOptions(): tls.SecureContextOptions | undefined {
    return this.#contextOptions;
  }

  get generation(): number {
    return this.#generation;
  }

  /** The mesh roots last delivered over SDS (PEM), or undefined before the first. */
  get trustBundlePem(): string | undefined {
    return this.#bundlePem;
  }

  /** True once a certificate and the trust bundle are in place. */
  ready(): boolean {
    return this.#context !== undefined;
  }

  status(): IdentityStatus {
    const leaf = this.#leaf;
    return {
      ...(leaf
        ? {
            spiffeId: uriSans(leaf.subjectAltName)[0],
            notBefore: new Date(leaf.validFrom).toISOString(),
            notAfter: new Date(leaf.validTo).toISOString(),
            certificateChain: this.#chainPem,
          }
        : {}),
      roots: this.#roots.length,
      rotations: this.#rotations,
    };
  }

  /**
   * Checks and installs the SDS secrets of one response (by name). Refuses, leaving everything
   * as it was, a bundle without CA certificates, or a chain whose leaf is not for one of our keys,
   * has no SPIFFE ID, or does not chain to a trusted root.
   */
  apply(secrets: ReadonlyMap<string, { chain?: string; bundle?: string }>): Result<void, string> {
    let bundlePem = this.#bundlePem;
    let roots = this.#roots;
    const b = secrets.get(ROOT_SECRET)?.bundle;
    if (b !== undefined) {
      const pems = splitPem(b);
      if (pems.length === 0) return err(`secret ${ROOT_SECRET}: the trust bundle holds no certificate`);
      try {
        roots = pems.map((p) => new X509Certificate(p));
      } catch (e) {
        return err(`secret ${ROOT_SECRET}: ${(e as Error).message}`);
      }
      const notCa = roots.findIndex((r) => !r.ca);
      if (notCa >= 0) return err(`secret ${ROOT_SECRET}: certificate ${notCa + 1} of the bundle is not a CA`);
      bundlePem = b;
    }
    let chainPem = this.#chainPem;
    let leaf = this.#leaf;
    let key = this.#current;
    const c = secrets.get(WORKLOAD_SECRET)?.chain;
    if (c !== undefined) {
      const pems = splitPem(c);
      let certs: X509Certificate[];
      try {
        certs = pems.map((p) => new X509Certificate(p));
      } catch (e) {
        return err(`secret ${WORKLOAD_SECRET}: ${(e as Error).message}`);
      }
      if (certs.length === 0) return err(`secret ${WORKLOAD_SECRET}: the certificate chain is empty`);
      const spki = certs[0]!.publicKey.export({ format: 'der', type: 'spki' }) as Buffer;
      const match = [this.#pending, this.#current].find((k) => k && k.publicDer.equals(spki));
      if (!match) return err(`secret ${WORKLOAD_SECRET}: the certificate is not for this proxy's key`);
      const id = uriSans(certs[0]!.subjectAltName)[0];
      if (!id || !parseSpiffeId(id)) return err(`secret ${WORKLOAD_SECRET}: the certificate has no SPIFFE ID in its URI SAN (got ${certs[0]!.subjectAltName ?? 'none'})`);
      key = match;
      leaf = certs[0]!;
      chainPem = c;
    }
    if (
      leaf &&
      roots.length > 0 &&
      !chainsTo(
        leaf,
        splitPem(chainPem ?? '')
          .slice(1)
          .map((p) => new X509Certificate(p)),
        roots,
      )
    ) {
      return err(`secret ${WORKLOAD_SECRET}: the certificate does not chain to a root of the trust bundle`);
    }
    const leafChanged = leaf !== this.#leaf;
    this.#bundlePem = bundlePem;
    this.#roots = roots;
    this.#chainPem = chainPem;
    this.#leaf = leaf;
    if (key !== this.#current) {
      this.#current = key;
      this.#pending = undefined;
      this.#rotations++;
    } else if (key === this.#pending) this.#pending = undefined;
    if (chainPem && bundlePem) {
      this.#contextOptions = { key: key.keyPem, cert: chainPem, ca: bundlePem, minVersion: 'TLSv1.2', ciphers: MESH_CIPHERS, ecdhCurve: 'X25519:P-256' };
      this.#context = tls.createSecureContext(this.#contextOptions);
      this.#generation++;
    }
    if (leaf && leafChanged) this.#schedule(leaf);
    // A new root signs new certificates: get one now instead of at half-life.
    const intermediates = splitPem(chainPem ?? '')
      .slice(1)
      .map((p) => new X509Certificate(p));
    if (leaf && roots.length > 0 && !this.#pending && !chainsTo(leaf, intermediates, [roots[0]!])) void this.rotate('the trust bundle has a new root');
    return ok(undefined);
  }

  /** Makes a new key and asks for its certificate (the old one serves until it arrives). */
  async rotate(reason: string): Promise<void> {
    if (this.#closed || this.#pending) return;
    this.#pending = await newKey();
    this.log?.info({ reason }, 'renewing the workload certificate');
    this.onCsr(this.#pending.csrPem);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  #schedule(leaf: X509Certificate): void {
    clearTimeout(this.#timer);
    // From receipt, not notBefore: the CA backdates certificates a little for clock skew.
    const delay = Math.max(0, Math.min((Date.parse(leaf.validTo) - Date.now()) * this.rotateAt, 2 ** 31 - 1));
    this.#timer = setTimeout(() => void this.rotate('the certificate passed half its remaining lifetime'), delay);
    this.#timer.unref();
  }
}

/** True when `leaf` is signed by a root, directly or through `intermediates`. */
function chainsTo(leaf: X509Certificate, intermediates: X509Certificate[], roots: X509Certificate[]): boolean {
  let cert = leaf;
  for (let depth = 0; depth <= intermediates.length; depth++) {
    const root = roots.find((r) => cert.checkIssued(r) && cert.verify(r.publicKey));
    if (root) return true;
    const next = intermediates.find((i) => cert.checkIssued(i) && cert.verify(i.publicKey));
    if (!next) return false;
    cert = next;
  }
  return false;
}
