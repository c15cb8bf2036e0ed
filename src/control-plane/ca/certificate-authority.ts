// The mesh's certificate authority: a root generated at first start (ECDSA P-256) or an
// operator-supplied root or intermediate with its chain, kept in `<dataDir>/ca/` with the key
// owner-only (0600). Issues short-lived workload certificates from CSRs, with the SPIFFE ID the
// caller proved (never what the CSR asks for), and rotates its root with an overlap during which
// old and new roots are both trusted.
import { randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { generateKeyPair, importPrivateKeyPem, P256, privateKeyPem, splitPem, summarise, x509Lib, type CertificateSummary, type Key } from '../../common/x509.js';
import type { X509Certificate as PeculiarCertificate, Pkcs10CertificateRequest } from '@peculiar/x509';
import { writeFileAtomic } from '../store/durable-fs.js';
import { caError, type CaError } from './errors.js';
import { err, ok, type Result } from '../../common/result.js';

/** Workload certificates live 24 h unless configured otherwise. */
export const DEFAULT_WORKLOAD_TTL_SECONDS = 24 * 3600;
/** A generated root lives ten years. */
const ROOT_TTL_DAYS = 3650;
/** How long an old root stays trusted after a rotation unless told otherwise: 48 h (two default certificate lifetimes). */
export const DEFAULT_ROOT_OVERLAP_SECONDS = 48 * 3600;
/** Allowance for clocks that disagree a little. */
const BACKDATE_MS = 60_000;

const KEY_FILE = 'signing-key.pem';
const CERT_FILE = 'signing-cert.pem';
const CHAIN_FILE = 'chain.pem';
const ROOTS_FILE = 'roots.json';

/** A root the mesh trusts, until `trustedUntil` if it was rotated out. */
interface TrustedRoot {
  pem: string;
  trustedUntil?: string;
}

/** Operator-supplied CA material (PEM file paths). */
export interface SuppliedCa {
  /** The signing certificate: a root, or an intermediate signed by the organisation's CA. */
  certFile: string;
  keyFile: string;
  /** The intermediate's chain up to and including the root; absent for a root. */
  chainFile?: string;
}

export interface CaOptions {
  dir: string;
  trustDomain: string;
  workloadTtlSeconds?: number;
  /** Used only when `dir` holds no CA yet. */
  supplied?: SuppliedCa;
  now?: () => number;
}

/** What `trellis ca show` prints. */
export interface CaStatus {
  trustDomain: string;
  workloadTtlSeconds: number;
  signing: CertificateSummary;
  /** The chain from the signing certificate's issuer up to the root (empty when it is the root). */
  chain: CertificateSummary[];
  roots: (CertificateSummary & { trustedUntil?: string })[];
}

/** An issued workload certificate: the leaf and the chain up to (not including) the root. */
export interface IssuedCertificate {
  certificateChainPem: string;
  notAfter: Date;
}

export class CertificateAuthority {
  readonly #opts: CaOptions;
  #key!: Key;
  #cert!: PeculiarCertificate;
  #chain: string[] = [];
  #roots: TrustedRoot[] = [];
  readonly #listeners = new Set<() => void>();

  private constructor(opts: CaOptions) {
    this.#opts = opts;
  }

  /** Loads the CA from `dir`, creating it (generated root or supplied material) on first start. */
  static async open(opts: CaOptions): Promise<CertificateAuthority> {
    const ca = new CertificateAuthority(opts);
    await fsp.mkdir(opts.dir, { recursive: true, mode: 0o700 });
    const exists = await fsp.access(path.join(opts.dir, KEY_FILE)).then(
      () => true,
      () => false,
    );
    if (!exists) {
      if (opts.supplied) await ca.#install(opts.supplied, []);
      else await ca.#generateRoot([]);
    }
    await ca.#load();
    return ca;
  }

  get trustDomain(): string {
    return this.#opts.trustDomain;
  }

  get workloadTtlSeconds(): number {
    return this.#opts.workloadTtlSeconds ?? DEFAULT_WORKLOAD_TTL_SECONDS;
  }

  /** Runs `fn` whenever the trust bundle changes (rotation, an old root's overlap ending). */
  onBundleChange(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Every root trusted now, PEM, newest first. */
  trustBundlePem(): string {
    const now = this.#now();
    return this.#roots
      .filter((r) => r.trustedUntil === undefined || Date.parse(r.trustedUntil) > now)
      .map((r) => r.pem)
      .join('');
  }

  status(): CaStatus {
    return {
      trustDomain: this.trustDomain,
      workloadTtlSeconds: this.workloadTtlSeconds,
      signing: summarise(this.#cert.toString('pem')),
      chain: this.#chain.map(summarise),
      roots: this.#roots.map((r) => ({ ...summarise(r.pem), ...(r.trustedUntil ? { trustedUntil: r.trustedUntil } : {}) })),
    };
  }

  /**
   * Signs a workload certificate for `spiffeId` with the public key of `csrPem`. The CSR must be
   * well-formed, self-signed with its key, and that key ECDSA P-256; its subject and SANs are ignored.
   */
  async issue(csrPem: string, spiffeId: string, ttlSeconds = this.workloadTtlSeconds): Promise<Result<IssuedCertificate, CaError>> {
    const x509 = await x509Lib();
    let csr: Pkcs10CertificateRequest;
    try {
      csr = new x509.Pkcs10CertificateRequest(csrPem);
    } catch (e) {
      return err(caError('CSR_INVALID', `the CSR is not a PEM PKCS#10 request: ${(e as Error).message}`));
    }
    const alg = csr.publicKey.algorithm as { name: string; namedCurve?: string };
    if (alg.name !== 'ECDSA' || alg.namedCurve !== 'P-256') {
      return err(caError('CSR_INVALID', `the CSR's key must be ECDSA P-256, got ${alg.name} ${alg.namedCurve ?? ''}`.trim()));
    }
    if (!(await csr.verify())) return err(caError('CSR_INVALID', 'the CSR signature does not verify with its own key'));
    // @peculiar/x509 types keys as the DOM's CryptoKey, which a Node.js program (no DOM lib) lacks.
    const publicKey = (await csr.publicKey.export(P256, ['verify'])) as webcrypto.CryptoKey;
    return ok(await this.#sign(publicKey, [{ type: 'url', value: spiffeId }], ttlSeconds));
  }

  /**
   * A certificate for the control plane's own TLS listeners (REST API, xDS): `publicKey` is the
   * key the control plane generated in memory; `names` are its SPIFFE ID, DNS names and IPs.
   */
  async issueServing(publicKey: webcrypto.CryptoKey, names: { spiffeId: string; dns: string[]; ips: string[] }, ttlSeconds: number): Promise<IssuedCertificate> {
    return this.#sign(
      publicKey,
      [{ type: 'url', value: names.spiffeId }, ...names.dns.map((value) => ({ type: 'dns' as const, value })), ...names.ips.map((value) => ({ type: 'ip' as const, value }))],
      ttlSeconds,
    );
  }

  #signed = 0;

  /** Certificates signed since start (workload and serving), for the control plane's metrics. */
  get signed(): number {
    return this.#signed;
  }

  async #sign(publicKey: webcrypto.CryptoKey, sans: { type: 'url' | 'dns' | 'ip'; value: string }[], ttlSeconds: number): Promise<IssuedCertificate> {
    this.#signed++;
    const x509 = await x509Lib();
    const now = this.#now();
    const notAfter = new Date(Math.min(now + ttlSeconds * 1000, this.#cert.notAfter.getTime()));
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: '',
      issuer: this.#cert.subject,
      notBefore: new Date(now - BACKDATE_MS),
      notAfter,
      signingKey: this.#key,
      publicKey,
      signingAlgorithm: P256,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        new x509.SubjectAlternativeNameExtension(sans, true),
        await x509.AuthorityKeyIdentifierExtension.create(this.#cert),
        await x509.SubjectKeyIdentifierExtension.create(publicKey),
      ],
    });
    const selfSigned = this.#chain.length === 0;
    const chain = leaf.toString('pem') + '\n' + (selfSigned ? '' : this.#cert.toString('pem') + '\n' + this.#chain.slice(0, -1).join(''));
    return { certificateChainPem: chain, notAfter };
  }

  /**
   * Replaces the signing root with a new one (generated, or `supplied`); the old roots stay
   * trusted for `overlapSeconds`. New certificates are signed by the new CA at once.
   */
  async rotate(overlapSeconds = DEFAULT_ROOT_OVERLAP_SECONDS, supplied?: SuppliedCa): Promise<Result<CaStatus, CaError>> {
    const until = new Date(this.#now() + overlapSeconds * 1000).toISOString();
    const keep = this.#roots.map((r) => ({ pem: r.pem, trustedUntil: r.trustedUntil && Date.parse(r.trustedUntil) < Date.parse(until) ? r.trustedUntil : until }));
    try {
      if (supplied) await this.#install(supplied, keep);
      else await this.#generateRoot(keep);
      await this.#load();
    } catch (e) {
      return err(caError('CA_ROTATE_FAILED', `the CA was not rotated: ${(e as Error).message}`));
    }
    this.#changed();
    if (overlapSeconds > 0) setTimeout(() => this.#changed(), overlapSeconds * 1000 + 10).unref();
    return ok(this.status());
  }

  #changed(): void {
    for (const fn of this.#listeners) fn();
  }

  #now(): number {
    return this.#opts.now?.() ?? Date.now();
  }

  async #generateRoot(previous: TrustedRoot[]): Promise<void> {
    const x509 = await x509Lib();
    const keys = await generateKeyPair();
    const now = this.#now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: `O=Trellis, CN=Trellis mesh root ${new Date(now).toISOString().slice(0, 19)}Z`,
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(now + ROOT_TTL_DAYS * 86400_000),
      keys,
      signingAlgorithm: P256,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    const pem = cert.toString('pem') + '\n';
    await this.#write(await privateKeyPem(keys.privateKey), pem, '', [{ pem }, ...previous]);
  }

  async #install(s: SuppliedCa, previous: TrustedRoot[]): Promise<void> {
    const x509 = await x509Lib();
    const read = (f: string, what: string) =>
      fsp.readFile(f, 'utf8').catch((e: Error) => {
        throw new Error(`cannot read the ${what} ${f}: ${e.message}`);
      });
    const [certPem, keyPem, chainPem] = await Promise.all([
      read(s.certFile, 'CA certificate'),
      read(s.keyFile, 'CA key'),
      s.chainFile ? read(s.chainFile, 'CA chain') : Promise.resolve(''),
    ]);
    const certs = splitPem(certPem);
    if (certs.length !== 1) throw new Error(`${s.certFile} must hold exactly one certificate, got ${certs.length}`);
    const cert = new X509Certificate(certs[0]!);
    if (!cert.ca) throw new Error(`${s.certFile} is not a CA certificate (basicConstraints CA:TRUE is missing)`);
    const key = await importPrivateKeyPem(keyPem).catch((e: Error) => {
      throw new Error(`${s.keyFile}: ${e.message}`);
    });
    const probe = new x509.X509Certificate(certs[0]!);
    const data = Buffer.from('trellis-ca-key-check');
    const sig = await webcrypto.subtle.sign(P256, key, data);
    const probeKey = (await probe.publicKey.export(P256, ['verify'])) as webcrypto.CryptoKey;
    if (!(await webcrypto.subtle.verify(P256, probeKey, sig, data))) {
      throw new Error(`${s.keyFile} is not the key of ${s.certFile}`);
    }
    const chain = splitPem(chainPem);
    let root = certs[0]!;
    if (chain.length > 0) {
      let child = cert;
      for (const [i, pem] of chain.entries()) {
        const parent = new X509Certificate(pem);
        if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) throw new Error(`${s.chainFile}: certificate ${i + 1} did not issue the one before it`);
        child = parent;
      }
      if (!child.checkIssued(child)) throw new Error(`${s.chainFile} must end with the root (a self-signed certificate)`);
      root = chain[chain.length - 1]!;
    } else if (!cert.checkIssued(cert)) {
      throw new Error(`${s.certFile} is an intermediate: give its chain up to the root with the chain file`);
    }
    await this.#write(await privateKeyPem(key), certs[0]!, chain.join(''), [{ pem: root }, ...previous.filter((p) => p.pem !== root)]);
  }

  async #write(keyPem: string, certPem: string, chainPem: string, roots: TrustedRoot[]): Promise<void> {
    const dir = this.#opts.dir;
    await writeFileAtomic(path.join(dir, KEY_FILE), Buffer.from(keyPem));
    await fsp.chmod(path.join(dir, KEY_FILE), 0o600);
    await writeFileAtomic(path.join(dir, CERT_FILE), Buffer.from(certPem));
    await writeFileAtomic(path.join(dir, CHAIN_FILE), Buffer.from(chainPem));
    await writeFileAtomic(path.join(dir, ROOTS_FILE), Buffer.from(JSON.stringify(roots, null, 2)));
  }

  async #load(): Promise<void> {
    const x509 = await x509Lib();
    const dir = this.#opts.dir;
    const keyFile = path.join(dir, KEY_FILE);
    const mode = (await fsp.stat(keyFile)).mode & 0o077;
    if (mode !== 0) throw new Error(`${keyFile} must be readable by its owner only (mode 0600), got ${((await fsp.stat(keyFile)).mode & 0o777).toString(8)}`);
    this.#key = await importPrivateKeyPem(await fsp.readFile(keyFile, 'utf8'));
    this.#cert = new x509.X509Certificate(await fsp.readFile(path.join(dir, CERT_FILE), 'utf8'));
    this.#chain = splitPem(await fsp.readFile(path.join(dir, CHAIN_FILE), 'utf8'));
    const roots: unknown = JSON.parse(await fsp.readFile(path.join(dir, ROOTS_FILE), 'utf8'));
    if (!Array.isArray(roots) || roots.length === 0) throw new Error(`${path.join(dir, ROOTS_FILE)} must list at least one root`);
    this.#roots = roots as TrustedRoot[];
  }
}

function serial(): string {
  const b = randomBytes(16);
  b[0]! &= 0x7f; // positive
  return b.toString('hex');
}
