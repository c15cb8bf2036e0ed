// Test hosts for transparent mode: a HostLab (one network namespace per workload, a bridge in
// a namespace of its own), a control plane that proxies reach through a Unix socket, and
// workloads started with `trellis run --transparent`. Everything is removed when the test ends.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { cleanup } from './cleanup.js';
import { canManageNamespaces, HostLab, type LabHost } from '../../src/netns/index.js';
import { PROJECT_ROOT } from '../../src/common/self.js';
import { waitFor } from '../../src/common/wait.js';
import { startControlPlane, startProcess, type ControlPlane, type Proc, createJoinToken } from './harness.js';

export const TRANSPARENT_FIXTURES = path.join(PROJECT_ROOT, 'test/fixtures/transparent');
/** The admin port of a captured proxy, on 127.0.0.1 inside its namespace. */
export const ADMIN_PORT = 15020;

/**
 * Skips the test with the reason when this machine cannot make test hosts (not root, not
 * Linux); in CI (CI=true, always root) that is a failure instead.
 */
export function requireTestHosts(t: TestContext): boolean {
  const can = canManageNamespaces();
  if (can.ok) return true;
  if (process.env.CI === 'true') throw new Error(`transparent-mode tests must run in CI, but cannot: ${can.reason}`);
  t.skip(`needs root on Linux for network namespaces and iptables: ${can.reason}`);
  return false;
}

export interface TransparentMesh {
  lab: HostLab;
  cp: ControlPlane;
  socket: string;
}

/** A lab and a control plane serving xDS on a Unix socket in its data directory. */
export async function startTransparentMesh(t: TestContext, tag: string): Promise<TransparentMesh> {
  const lab = HostLab.create({ tag });
  cleanup(t, () => lab.destroy());
  // The proxies' admin and span sockets go beside the xDS socket: one directory removes them all.
  const socketDir = mkdtempSync(path.join(os.tmpdir(), 'trellis-xds-'));
  cleanup(t, () => rmSync(socketDir, { recursive: true, force: true }));
  const socket = path.join(socketDir, 'xds.sock');
  const cp = await startControlPlane(t, undefined, ['--xds-socket', socket]);
  return { lab, cp, socket };
}

export interface CapturedWorkload extends Proc {
  host: LabHost;
  /** Text of the sidecar's /metrics (fetched inside the host's namespace). */
  metrics(): string;
}

/** Starts an application with `trellis run --transparent` in a new lab host and waits until the proxy is ready, the app listens and its endpoint is ready. */
export async function startCapturedWorkload(
  t: TestContext,
  mesh: TransparentMesh,
  opts: { host: string; service: string; port: number; extraPorts?: number[]; runArgs?: string[]; app: string[]; env?: Record<string, string> },
): Promise<CapturedWorkload> {
  const host = mesh.lab.addHost(opts.host);
  const proc = startProcess(
    t,
    [
      'run',
      '--transparent',
      '--netns',
      host.netns,
      '--service',
      opts.service,
      '--port',
      String(opts.port),
      ...(opts.extraPorts ?? []).flatMap((p) => ['--extra-port', String(p)]),
      ...(opts.runArgs ?? []),
      '--admin-port',
      String(ADMIN_PORT),
      '--xds-address',
      `unix:${mesh.socket}`,
      '--ready-timeout',
      '90000',
      '--',
      ...opts.app,
    ],
    { SERVICE_NAME: opts.service, TRELLIS_JOIN_TOKEN: (await createJoinToken(mesh.cp, opts.service)).token, ...opts.env },
  );
  const curl = (url: string) => mesh.lab.exec(opts.host, ['curl', '-sSf', '--max-time', '2', url]);
  const curlAsync = (url: string) => mesh.lab.execAsync(opts.host, ['curl', '-sSf', '--max-time', '2', url]);
  const step = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      throw new Error(`${what}: ${(e as Error).message}; output of trellis run: ${proc.output() || '(none)'}`);
    }
  };
  await step(`proxy of ${opts.service} ready`, () =>
    waitFor(async () => (await curlAsync(`http://127.0.0.1:${ADMIN_PORT}/ready`)).length >= 0, `proxy of ${opts.service} ready`, 90000, 250),
  );
  await step(`app of ${opts.service} listening`, () =>
    waitFor(async () => (await mesh.lab.execAsync(opts.host, ['ss', '-Htln', `sport = :${opts.port}`])).trim().length > 0, `app of ${opts.service} on ${opts.port}`, 20000, 200),
  );
  // In callers' load balancing only once its proxy reports it ready (the app passed its check).
  await step(`endpoint of ${opts.service} ready`, () =>
    waitFor(
      async () => (JSON.parse(await curlAsync(`http://127.0.0.1:${ADMIN_PORT}/config_dump`)) as { endpoint: { state: string } }).endpoint.state === 'ready',
      `endpoint of ${opts.service} ready`,
      20000,
      200,
    ),
  );
  return { ...proc, host, metrics: () => curl(`http://127.0.0.1:${ADMIN_PORT}/metrics`) };
}

/** Sum of a counter in Prometheus text over the series whose labels include `labels`. */
export function sumCounter(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
