// The control plane's own TLS identity, for its REST API and its xDS server: a key made in
// memory at every start (it never touches the disk), a certificate for it from the mesh CA
// (SPIFFE ID spiffe://<td>/ns/trellis-system/sa/control-plane, plus the DNS names and IPs
// clients dial), renewed at half its lifetime and at once after a root rotation. Clients
// verify it with the mesh trust bundle, kept current in `<data-dir>/ca/trust-bundle.pem`.
import { promises as fsp } from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { IdentityCertificateUpdateListener } from '@grpc/grpc-js/build/src/certificate-provider.js';
import type { Logger } from '../common/log.js';
import { generateKeyPair, privateKeyPem } from '../common/x509.js';
import { spiffeId } from '../xds/spiffe.js';
import type { CertificateAuthority } from './ca/index.js';

export const TRUST_BUNDLE_FILE = 'trust-bundle.pem';
export const CONTROL_PLANE_NAMESPACE = 'trellis-system';
export const CONTROL_PLANE_SERVICE_ACCOUNT = 'control-plane';
/** One day, like workload certificates: a stolen copy is useful for a short while only. */
const SERVING_TTL_SECONDS = 24 * 3600;

export interface ServingKeyPair {
  keyPem: string;
  /** The leaf and any intermediates, PEM. */
  certChainPem: string;
}

export interface ServingTlsOptions {
  ca: CertificateAuthority;
  dataDir: string;
  /** The hosts the listeners bind; a wildcard (0.0.0.0, ::) stands for every local address. */
  listenHosts: string[];
  ttlSeconds?: number;
  logger?: Logger;
}

/** The DNS names and IPs that clients may dial, for the certificate's SANs. */
export function servingNames(listenHosts: string[]): { dns: string[]; ips: string[] } {
  const dns = new Set(['localhost', os.hostname()]);
  const ips = new Set(['127.0.0.1', '::1']);
  for (const host of listenHosts) {
    if (host === '0.0.0.0' || host === '::') {
      for (const addrs of Object.values(os.networkInterfaces())) for (const a of addrs ?? []) ips.add(a.address.split('%')[0]!);
    } else if (isIP(host)) ips.add(host);
    else dns.add(host);
  }
  return { dns: [...dns], ips: [...ips] };
}

export class ServingTls {
  readonly #opts: ServingTlsOptions;
  readonly #listeners = new Set<(pair: ServingKeyPair) => void>();
  readonly #grpcListeners = new Set<IdentityCertificateUpdateListener>();
  #current!: ServingKeyPair;
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #closed = false;

  private constructor(opts: ServingTlsOptions) {
    this.#opts = opts;
  }

  /** Issues the first certificate, writes the trust bundle, and keeps both current until close(). */
  static async start(opts: ServingTlsOptions): Promise<ServingTls> {
    const tls = new ServingTls(opts);
    await tls.#writeTrustBundle();
    await tls.#renew();
    tls.#unsubscribe = opts.ca.onBundleChange(() => {
      void tls
        .#writeTrustBundle()
        .then(() => tls.#renew())
        .catch((e: Error) => opts.logger?.error({ err: e.message }, 'cannot renew the control plane certificate after the trust bundle changed'));
    });
    return tls;
  }

  get trustBundleFile(): string {
    return path.join(this.#opts.dataDir, 'ca', TRUST_BUNDLE_FILE);
  }

  get current(): ServingKeyPair {
    return this.#current;
  }

  /** Calls `fn` with every new key pair (the HTTPS server swaps its secure context). */
  onChange(fn: (pair: ServingKeyPair) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** gRPC server credentials that follow the renewals (no client certificate asked for). */
  grpcCredentials(): grpc.ServerCredentials {
    const toUpdate = (p: ServingKeyPair) => ({ certificate: Buffer.from(p.certChainPem), privateKey: Buffer.from(p.keyPem) });
    const provider = {
      addCaCertificateListener: () => undefined,
      removeCaCertificateListener: () => undefined,
      // Delivered on the next tick: grpc-js registers its server's watcher only after this call returns.
      addIdentityCertificateListener: (l: IdentityCertificateUpdateListener) => {
        this.#grpcListeners.add(l);
        setImmediate(() => l(toUpdate(this.#current)));
      },
      removeIdentityCertificateListener: (l: IdentityCertificateUpdateListener) => {
        this.#grpcListeners.delete(l);
      },
    };
    this.onChange((p) => {
      for (const l of this.#grpcListeners) l(toUpdate(p));
    });
    // grpc-js's first parameter is the identity provider (despite its name in the typings).
    return grpc.experimental.createCertificateProviderServerCredentials(provider, null, false);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#unsubscribe?.();
  }

  async #renew(): Promise<void> {
    if (this.#closed) return;
    const ttlSeconds = this.#opts.ttlSeconds ?? SERVING_TTL_SECONDS;
    const keys = await generateKeyPair();
    const names = servingNames(this.#opts.listenHosts);
    const id = spiffeId(this.#opts.ca.trustDomain, CONTROL_PLANE_NAMESPACE, CONTROL_PLANE_SERVICE_ACCOUNT);
    const issued = await this.#opts.ca.issueServing(keys.publicKey, { spiffeId: id, ...names }, ttlSeconds);
    this.#current = { keyPem: await privateKeyPem(keys.privateKey), certChainPem: issued.certificateChainPem };
    for (const fn of [...this.#listeners]) fn(this.#current);
    clearTimeout(this.#timer);
    const halfLife = Math.max(1000, (issued.notAfter.getTime() - Date.now()) / 2);
    this.#timer = setTimeout(() => {
      this.#renew().catch((e: Error) => this.#opts.logger?.error({ err: e.message }, 'cannot renew the control plane certificate'));
    }, halfLife).unref();
    this.#opts.logger?.info({ notAfter: issued.notAfter.toISOString(), dns: names.dns, ips: names.ips }, 'control plane certificate issued');
  }

  async #writeTrustBundle(): Promise<void> {
    // Public material: readable by the operators and proxies on this host.
    // Written aside and renamed, so a proxy starting meanwhile never reads half a bundle.
    const tmp = `${this.trustBundleFile}.tmp`;
    await fsp.writeFile(tmp, this.#opts.ca.trustBundlePem(), { mode: 0o644 });
    await fsp.rename(tmp, this.trustBundleFile);
  }
}
