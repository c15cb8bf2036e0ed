// Two Trellis sidecars with mTLS between them, and their control plane, run from one built
// checkout: A's local upstream ports lead through B to nginx, one Service port per protocol.
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { trustingFetch } from '../../src/common/trusting-fetch.js';
import { SIDECAR_NODE_FLAGS } from '../../src/common/self.js';
import { freePorts } from '../../src/common/free-port.js';
import { httpOk, waitFor } from '../../src/common/wait.js';
import type { BackendPorts } from './backends.js';
import type { FrontPorts } from './haproxy.js';
import { LOAD_CPU, type Processes } from './processes.js';

export interface TrellisPairOptions {
  /** Names the pair's control plane directory and its CPU profiles. */
  readonly label: string;
  /** bin/trellis.js of the checkout to run. */
  readonly bin: string;
  readonly node: string;
  readonly nodeFlags: readonly string[];
  readonly profileDir?: string;
}

export interface TrellisPair {
  /** A's local upstream port for each protocol. */
  readonly front: FrontPorts;
  /** Side A (the client's sidecar), then side B. */
  readonly procs: ChildProcess[];
  readonly controlPlane: ChildProcess;
}

/**
 * The Service `bench-server` has a port per protocol (appProtocol http, http2, grpc, tcp), each
 * targeting its nginx port, so B's inbound entry for it speaks that protocol: HTTP/2 both ways
 * for http2 and grpc, opaque TCP over mTLS for tcp.
 */
export async function startTrellisPair(procs: Processes, o: TrellisPairOptions, nginx: BackendPorts): Promise<TrellisPair> {
  const [apiPort, xdsPort, adminA, adminB, hpA, hpB, ...rest] = await freePorts(6 + 4 + 4 + 2);
  const inB = { http1: rest[0]!, h2: rest[1]!, grpc: rest[2]!, tcp: rest[3]! };
  const front: FrontPorts = { http1: rest[4]!, h2: rest[5]!, grpc: rest[6]!, tcp: rest[7]! };
  const cpDir = path.join(procs.dir, `cp-${o.label}`);
  const cp = procs.start(o.node, [o.bin, 'control-plane', '--data-dir', cpDir, '--api-address', `127.0.0.1:${apiPort}`, '--xds-address', `127.0.0.1:${xdsPort}`], {
    cpu: LOAD_CPU,
    stdout: 'pipe',
  });
  let cpOut = '';
  cp.stdout!.on('data', (c: Buffer) => {
    cpOut += c.toString();
  });
  const api = `https://127.0.0.1:${apiPort}`;
  // The API and xDS are TLS: the bench trusts the mesh roots the control plane writes.
  const caFile = path.join(cpDir, 'ca', 'trust-bundle.pem');
  await waitFor(async () => cpOut.includes('control plane ready'), `${o.label} control plane`, 30000);
  await waitFor(async () => /admin token[^:]*: \S+/.test(cpOut), 'the admin token', 5000);
  const fetch = trustingFetch(caFile);
  const auth = { authorization: `Bearer ${/admin token[^:]*: (\S+)/.exec(cpOut)![1]}` };
  // Security is on as in production: each proxy joins with a token and the pair talks mTLS.
  const joinToken = async (service: string): Promise<string> => {
    const r = await fetch(`${api}/api/v1/tokens`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ role: 'join', service }) });
    return ((await r.json()) as { token: string }).token;
  };
  const svc = (name: string, ports: { name: string; port: number; targetPort: number; appProtocol: string }[]) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { selector: { app: name }, ports },
  });
  const serverPorts = [
    { name: 'http', port: 8080, targetPort: nginx.http1, appProtocol: 'http', local: front.http1 },
    { name: 'h2c', port: 8081, targetPort: nginx.h2, appProtocol: 'http2', local: front.h2 },
    { name: 'grpc', port: 8082, targetPort: nginx.grpc, appProtocol: 'grpc', local: front.grpc },
    { name: 'bulk', port: 8083, targetPort: nginx.bulk, appProtocol: 'tcp', local: front.tcp },
  ];
  const resources = [
    svc(
      'bench-server',
      serverPorts.map(({ local: _, ...p }) => p),
    ),
    svc('bench-client', [{ name: 'http', port: 8080, targetPort: 8080, appProtocol: 'http' }]),
  ];
  const applied = await fetch(`${api}/api/v1/apply`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ resources }) });
  if (applied.status !== 200) throw new Error(await applied.text());
  const xds = `127.0.0.1:${xdsPort}`;
  // The flags every sidecar runs with (SIDECAR_NODE_FLAGS), then --node-flags (a later value of a flag wins).
  const nodeFlags = [...SIDECAR_NODE_FLAGS, ...(o.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(o.profileDir, o.label)}`] : []), ...o.nodeFlags];
  const sidecar = async (service: string, args: string[]) =>
    procs.start(o.node, [...nodeFlags, o.bin, 'proxy', '--service', service, '--xds-address', xds, ...args], {
      env: { TRELLIS_CA_FILE: caFile, TRELLIS_JOIN_TOKEN: await joinToken(service) },
    });
  const proxyB = await sidecar('bench-server', [
    '--inbound',
    `${inB.http1}:${nginx.http1}`,
    '--inbound',
    `${inB.h2}:${nginx.h2}`,
    '--inbound',
    `${inB.grpc}:${nginx.grpc}`,
    '--inbound',
    `${inB.tcp}:${nginx.bulk}`,
    '--admin-port',
    String(adminB),
    '--http-proxy-port',
    String(hpB),
  ]);
  const proxyA = await sidecar('bench-client', [
    '--inbound',
    `${rest[8]!}:${rest[9]!}`,
    '--admin-port',
    String(adminA),
    '--http-proxy-port',
    String(hpA),
    ...serverPorts.flatMap((p) => ['--upstream', `bench-server:${p.port}=${p.local}`]),
  ]);
  await waitFor(() => httpOk(`http://127.0.0.1:${adminA}/ready`), `${o.label} proxy A`, 30000);
  await waitFor(() => httpOk(`http://127.0.0.1:${adminB}/ready`), `${o.label} proxy B`, 30000);
  return { front, procs: [proxyA, proxyB], controlPlane: cp };
}
