// Gateway tests' shared parts: certificates made with openssl for host names, TLS Secrets of
// them, a Trellis GatewayClass, a started `trellis gateway`, and curl through it with --resolve.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { waitFor } from '../../src/common/wait.js';
import { freePorts } from '../../src/common/free-port.js';
import { cleanup } from './cleanup.js';
import { createJoinToken, startProcess, type ControlPlane, type Proc } from './harness.js';

export interface Pem {
  cert: string;
  key: string;
  /** The certificate's file, for curl --cacert. */
  certFile: string;
}

/** A self-signed ECDSA P-256 certificate for `names` (the first is the CN), valid for a day. */
export function makeCert(t: TestContext, names: string[]): Pem {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-gw-cert-'));
  cleanup(t, () => rmSync(dir, { recursive: true, force: true }));
  const [certFile, keyFile] = [path.join(dir, 'tls.crt'), path.join(dir, 'tls.key')];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${names[0]}`,
      '-addext',
      `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`,
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile };
}

export const tlsSecret = (name: string, pem: Pem) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: 'default' },
  type: 'kubernetes.io/tls',
  stringData: { 'tls.crt': pem.cert, 'tls.key': pem.key },
});

export const gatewayClass = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'GatewayClass',
  metadata: { name: 'trellis' },
  spec: { controllerName: 'trellis.dev/gateway-controller' },
};

export const gatewayDoc = (name: string, listeners: unknown[]) => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name, namespace: 'default' },
  spec: { gatewayClassName: 'trellis', listeners },
});

export const routeDoc = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name, namespace: 'default' },
  spec,
});

export interface Gateway extends Proc {
  adminUrl: string;
}

/** Starts `trellis gateway --name NAME` on 127.0.0.1 with a join token for the service NAME; waits for its admin listener. */
export async function startGateway(t: TestContext, cp: ControlPlane, name: string): Promise<Gateway> {
  const [adminPort] = await freePorts(1);
  const { token } = await createJoinToken(cp, name);
  const proc = startProcess(t, ['gateway', '--name', name, '--address', '127.0.0.1', '--admin-port', String(adminPort), '--xds-address', cp.xdsAddress], {
    TRELLIS_JOIN_TOKEN: token,
    TRELLIS_CA_FILE: cp.caFile,
  });
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  await waitFor(
    async () => {
      try {
        return (await fetch(`${adminUrl}/ready`, { signal: AbortSignal.timeout(2000) })).ok;
      } catch {
        return false;
      }
    },
    `gateway ${name} ready; output: ${proc.output()}`,
    45_000,
  );
  return { ...proc, adminUrl };
}

export interface CurlResult {
  code: number;
  status: number;
  headers: string;
  body: string;
  stderr: string;
}

/** curl to `url` with its host resolved to 127.0.0.1 (`--resolve host:port:127.0.0.1`); `-k` unless a CA is given. */
export function curl(url: string, args: string[] = []): Promise<CurlResult> {
  const u = new URL(url);
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  return new Promise((resolve) => {
    execFile(
      'curl',
      ['-sS', '--max-time', '10', '--resolve', `${u.hostname}:${port}:127.0.0.1`, '-D', '-', '-o', '-', ...args, url],
      { encoding: 'utf8' },
      (error, stdout, stderr) => {
        const split = stdout.indexOf('\r\n\r\n');
        const headers = split < 0 ? stdout : stdout.slice(0, split);
        const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(headers)?.[1] ?? 0);
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, status, headers, body: split < 0 ? '' : stdout.slice(split + 4), stderr });
      },
    );
  });
}

/** The subject CN and SANs of the certificate a TLS server on 127.0.0.1:`port` presents for `servername` (none: no SNI). */
export function servedCertificate(port: number, servername: string | undefined): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile(
      'openssl',
      ['s_client', '-connect', `127.0.0.1:${port}`, ...(servername ? ['-servername', servername] : ['-noservername'])],
      { encoding: 'utf8', timeout: 10000 },
      (_e, stdout) => {
        const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(stdout)?.[0] ?? '';
        if (!pem) return resolve('');
        resolve(execFileSync('openssl', ['x509', '-noout', '-subject', '-ext', 'subjectAltName'], { input: pem, encoding: 'utf8' }));
      },
    );
    child.stdin?.end();
  });
}
