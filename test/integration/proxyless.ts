// Proxyless gRPC applications for integration tests: each runs under `trellis bootstrap --grpc`
// (the agent that holds its join token, writes its gRPC bootstrap and certificates and relays
// its xDS stream), stopped with the test. Servers are @grpc/grpc-js-xds XdsServers, clients are
// driven over HTTP (test/fixtures/grpc-xds-client.mjs).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { freePorts } from '../../src/common/free-port.js';
import { tcpOpen, waitFor } from '../../src/common/wait.js';
import { cleanup } from './cleanup.js';
import { api, createJoinToken, FIXTURES, startProcess, type ControlPlane, type Proc } from './harness.js';

export interface ProxylessApp extends Proc {
  nodeId: string;
  /** The port the app listens on: a server's gRPC port, a client's control port. */
  port: number;
}

export interface CallSpec {
  target: string;
  count: number;
  rate: number;
  method?: 'unary' | 'stream';
  metadata?: Record<string, string>;
  streamCount?: number;
  deadlineMs?: number;
}

export interface CallResult {
  i: number;
  at: number;
  ms: number;
  code: number;
  details: string;
  servedBy: string;
  messages: number;
}

const READY_MS = 45_000;

/** The status the control plane reports for node `id` (GET /api/v1/proxies), if registered. */
export async function proxyStatus(cp: ControlPlane, id: string): Promise<any> {
  const r = await api(cp, 'GET', '/api/v1/proxies');
  return (r.body.items as any[]).find((p) => p.id === id);
}

async function startProxyless(
  t: TestContext,
  cp: ControlPlane,
  opts: { service: string; version?: string; app: string; server: boolean; env?: Record<string, string>; joinToken?: string },
): Promise<ProxylessApp> {
  const [port] = await freePorts(1);
  const version = opts.version ?? 'v1';
  const nodeId = `${opts.service}-${version}-${port}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-proxyless-'));
  cleanup(t, () => rmSync(dir, { recursive: true, force: true }));
  const token = opts.joinToken ?? (await createJoinToken(cp, opts.service)).token;
  const proc = startProcess(
    t,
    [
      'bootstrap',
      '--grpc',
      '--service',
      opts.service,
      '--label',
      `version=${version}`,
      ...(opts.server ? ['--port', String(port)] : []),
      '--xds-address',
      cp.xdsAddress,
      '--dir',
      dir,
      '--node-id',
      nodeId,
      '--',
      process.execPath,
      path.join(FIXTURES, opts.app),
    ],
    { SERVICE_NAME: opts.service, VERSION: version, PORT: String(port), TRELLIS_JOIN_TOKEN: token, TRELLIS_CA_FILE: cp.caFile, ...opts.env },
  );
  const app = { ...proc, nodeId, port: port! };
  try {
    await waitFor(async () => (await proxyStatus(cp, nodeId))?.connected === true, `proxyless node ${nodeId} connected`, READY_MS);
    if (opts.server) await waitFor(async () => proc.output().includes(': serving'), `the xDS server of ${nodeId} serving`, READY_MS);
    else await waitFor(() => tcpOpen(port!), `the control port of ${nodeId}`, READY_MS);
  } catch (e) {
    throw new Error(`${(e as Error).message}; output: ${proc.output() || '(none)'}`);
  }
  return app;
}

/** A proxyless XdsServer of `service` serving the echo service (grpc-xds-server.mjs). */
export const startProxylessServer = (t: TestContext, cp: ControlPlane, service: string, version = 'v1', env: Record<string, string> = {}) =>
  startProxyless(t, cp, { service, version, app: 'grpc-xds-server.mjs', server: true, env });

/** A proxyless client of `service`, driven by `calls` (grpc-xds-client.mjs). */
export const startProxylessClient = (t: TestContext, cp: ControlPlane, service: string, env: Record<string, string> = {}) =>
  startProxyless(t, cp, { service, app: 'grpc-xds-client.mjs', server: false, env });

/** Has the client make the calls of `spec`; answers each call's outcome. */
export async function calls(client: ProxylessApp, spec: CallSpec): Promise<CallResult[]> {
  const timeoutMs = 30_000 + (spec.count / spec.rate) * 1000 + (spec.deadlineMs ?? 5000);
  const res = await fetch(`http://127.0.0.1:${client.port}/calls`, { method: 'POST', body: JSON.stringify(spec), signal: AbortSignal.timeout(timeoutMs) });
  if (res.status !== 200) throw new Error(`the proxyless client answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { results: CallResult[] }).results;
}

/** Calls that failed, summarised for an assertion message. */
export function failures(results: readonly CallResult[]): string {
  const failed = results.filter((r) => r.code !== 0);
  const kinds = new Map<string, number>();
  for (const f of failed) kinds.set(`${f.code} ${f.details}`, (kinds.get(`${f.code} ${f.details}`) ?? 0) + 1);
  return `${failed.length} of ${results.length} failed: ${JSON.stringify([...kinds])}`;
}

/** How many calls each workload served. */
export function servedBy(results: readonly CallResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) if (r.code === 0) for (const w of r.servedBy.split(',')) out[w] = (out[w] ?? 0) + 1;
  return out;
}
