// Real processes for integration tests: a control plane and workloads started with
// `trellis run`, each in its own process group, all stopped when the test ends (even when
// it fails). Everything listens on 127.0.0.1. Security is on as in production: the harness
// keeps the admin token the control plane prints at its first start, and every workload
// gets a join token for its service. The REST API and xDS are TLS: this test process trusts
// the roots of every control plane it started (read at each new connection, so a root rotation
// is followed), and the processes it starts get the trust bundle in $TRELLIS_CA_FILE.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { cleanup } from './cleanup.js';
import tls from 'node:tls';
import { Agent, buildConnector, setGlobalDispatcher } from 'undici';
import { exited } from '../../src/common/child-process.js';
import { freePorts } from '../../src/common/free-port.js';
import { PROJECT_ROOT, trellisArgv } from '../../src/common/self.js';
import { httpOk, tcpOpen, waitFor } from '../../src/common/wait.js';

export { tcpOpen };

export const FIXTURES = path.join(PROJECT_ROOT, 'test/fixtures');

/** The trust bundles of the control planes this process started. */
const trustBundles = new Set<string>();
const meshRoots = (): string[] =>
  [...trustBundles].flatMap((f) => {
    try {
      return [readFileSync(f, 'utf8')];
    } catch {
      return [];
    }
  });
/**
 * Runs the rest of the test alone among the tests that take the same `name` in any test file
 * of this machine (the runner runs files concurrently): the demo tests each start a whole mesh,
 * and two at once on two cores take minutes to come up. A lock of a dead process is taken over.
 */
export async function exclusive(t: TestContext, name: string, timeoutMs = 600_000): Promise<void> {
  const lock = path.join(os.tmpdir(), `trellis-test-${name}.lock`);
  const started = Date.now();
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(path.join(lock, 'pid'), String(process.pid));
      cleanup(t, () => rmSync(lock, { recursive: true, force: true }));
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = Number(
      (() => {
        try {
          return readFileSync(path.join(lock, 'pid'), 'utf8');
        } catch {
          return '';
        }
      })(),
    );
    const alive =
      owner > 0 &&
      (() => {
        try {
          process.kill(owner, 0);
          return true;
        } catch {
          return false;
        }
      })();
    if (owner > 0 && !alive) rmSync(lock, { recursive: true, force: true });
    if (Date.now() - started > timeoutMs) throw new Error(`waited ${timeoutMs} ms for ${lock} (held by pid ${owner || 'unknown'})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Trusts the roots of a control plane started outside the harness (the demo's). */
export function trustControlPlane(caFile: string): void {
  trustBundles.add(caFile);
}
// fetch() in tests (and the helpers below) reach the control planes' HTTPS API with these roots.
setGlobalDispatcher(new Agent({ connect: (opts, cb) => buildConnector({ ca: [...tls.rootCertificates, ...meshRoots()] })(opts, cb) }));

export interface Proc {
  child: ChildProcess;
  output(): string;
  /** Ends the whole process group (the proxy and app of `trellis run` too). */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export function startProcess(t: TestContext, args: string[], env: Record<string, string> = {}): Proc {
  const [node, bin] = trellisArgv();
  const child = spawn(node, [bin, ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  const keep = (c: Buffer) => {
    out = (out + c.toString()).slice(-20000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const stop = (signal: NodeJS.Signals = 'SIGTERM') => stopGroup(child, signal, 3000);
  cleanup(t, () => stop());
  return { child, output: () => out, stop };
}

/**
 * Sends `signal` to the process group led by `child` (spawned detached), waits up to `graceMs`
 * for `child` to exit, then kills whatever is left of the group.
 */
export async function stopGroup(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const gone = exited(child);
    try {
      process.kill(-child.pid!, signal);
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, graceMs);
    await gone;
    clearTimeout(timer);
  }
  // `trellis run` and the demo stop their children themselves; make sure nothing of the group is left.
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    /* all gone */
  }
}

/** Adds what the process printed so far to a failure of `waiting`. */
async function withOutput<T>(proc: Proc, waiting: Promise<T>): Promise<T> {
  try {
    return await waiting;
  } catch (e) {
    throw new Error(`${(e as Error).message}; exit code ${proc.child.exitCode ?? 'none (running)'}; output: ${proc.output() || '(none)'}`);
  }
}

export interface ControlPlane extends Proc {
  apiUrl: string;
  xdsAddress: string;
  dataDir: string;
  /** The admin token printed at the first start. */
  token: string;
  /** The mesh trust bundle that verifies the API's and xDS's certificate. */
  caFile: string;
  /** Environment for `runCli` against this control plane (URL and admin token). */
  cliEnv: Record<string, string>;
  /** Starts a control plane again on the same data dir and ports (after stop). */
  restart(): Promise<ControlPlane>;
}

/** How long a started control plane or proxy may take to be ready: generous, as CI runs four test files at once on two cores. */
const READY_TIMEOUT_MS = 45_000;

export async function startControlPlane(
  t: TestContext,
  reuse?: { dataDir: string; apiPort: number; xdsPort: number; token: string },
  extraArgs: string[] = [],
): Promise<ControlPlane> {
  const dataDir = reuse?.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'trellis-cp-'));
  if (!reuse) cleanup(t, () => rmSync(dataDir, { recursive: true, force: true }));
  const [apiPort, xdsPort] = reuse ? [reuse.apiPort, reuse.xdsPort] : await freePorts(2);
  const proc = startProcess(t, ['control-plane', '--data-dir', dataDir, '--api-address', `127.0.0.1:${apiPort}`, '--xds-address', `127.0.0.1:${xdsPort}`, ...extraArgs]);
  const apiUrl = `https://127.0.0.1:${apiPort}`;
  const caFile = path.join(dataDir, 'ca', 'trust-bundle.pem');
  trustBundles.add(caFile);
  await withOutput(
    proc,
    waitFor(() => httpOk(`${apiUrl}/healthz`), `control plane at ${apiUrl}`, READY_TIMEOUT_MS),
  );
  const token = reuse?.token ?? ADMIN_TOKEN.exec(proc.output())?.[1];
  if (!token) throw new Error(`the control plane printed no admin token at its first start; output: ${proc.output()}`);
  return {
    ...proc,
    apiUrl,
    xdsAddress: `127.0.0.1:${xdsPort}`,
    dataDir,
    token,
    caFile,
    cliEnv: { TRELLIS_CONTROL_PLANE: apiUrl, TRELLIS_TOKEN: token, TRELLIS_CA_FILE: caFile },
    restart: () => startControlPlane(t, { dataDir, apiPort: apiPort!, xdsPort: xdsPort!, token }, extraArgs),
  };
}

const ADMIN_TOKEN = /admin token[^:]*: (trellis-admin\.\S+)/;

/** Calls the REST API with the admin token (or `token`); answers status and parsed body. */
export async function api(cp: ControlPlane, method: string, path: string, body?: unknown, token: string | null = cp.token): Promise<{ status: number; body: any }> {
  const res = await fetch(cp.apiUrl + path, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(10000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed };
}

/** Creates a join token for `service`; answers the token string and its id. */
export async function createJoinToken(
  cp: ControlPlane,
  service: string,
  opts: { namespace?: string; ttl?: string; labels?: Record<string, string> } = {},
): Promise<{ token: string; id: string }> {
  const r = await api(cp, 'POST', '/api/v1/tokens', { role: 'join', service, ...opts });
  if (r.status !== 201) throw new Error(`creating a join token for ${service} failed (${r.status}): ${JSON.stringify(r.body)}`);
  return { token: r.body.token, id: r.body.info.id };
}

export interface Workload extends Proc {
  adminUrl: string;
  httpProxyPort: number;
  inboundPort: number;
  appPort: number;
  /** Local upstream ports by `service:port`. */
  upstreamPorts: Record<string, number>;
}

export interface WorkloadOptions {
  service: string;
  version?: string;
  upstreams?: string[];
  /** Application command; default: the echo app. */
  app?: string[];
  env?: Record<string, string>;
  /** The join token to present; default: a new one for `service`. */
  joinToken?: string;
  /** Labels the proxy claims besides `version` (`--label k=v` each). */
  labels?: Record<string, string>;
  /** Inbound port to use (default: a free one). */
  inboundPort?: number;
  /** Return once the proxy is started, without waiting for it to be ready. */
  noWait?: boolean;
  /** More `trellis run` flags (before `--`). */
  runArgs?: string[];
  /** Return once the app listens, without waiting for its endpoint to report ready. */
  noWaitEndpoint?: boolean;
}

export async function startWorkload(t: TestContext, cp: ControlPlane, opts: WorkloadOptions): Promise<Workload> {
  const [appPort, inboundPort, adminPort, httpProxyPort, ...locals] = await freePorts(4 + (opts.upstreams?.length ?? 0));
  const upstreamPorts: Record<string, number> = {};
  const upstreamFlags = (opts.upstreams ?? []).flatMap((u, i) => {
    upstreamPorts[u] = locals[i]!;
    return ['--upstream', `${u}=${locals[i]}`];
  });
  const version = opts.version ?? 'v1';
  const joinToken = opts.joinToken ?? (await createJoinToken(cp, opts.service)).token;
  const inbound = opts.inboundPort ?? inboundPort!;
  const proc = startProcess(
    t,
    [
      'run',
      '--service',
      opts.service,
      '--port',
      String(appPort),
      '--label',
      `version=${version}`,
      ...Object.entries(opts.labels ?? {}).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
      '--inbound-port',
      String(inbound),
      '--admin-port',
      String(adminPort),
      '--http-proxy-port',
      String(httpProxyPort),
      '--xds-address',
      cp.xdsAddress,
      ...upstreamFlags,
      ...(opts.runArgs ?? []),
      '--',
      ...(opts.app ?? [process.execPath, path.join(FIXTURES, 'echo-app.mjs')]),
    ],
    { SERVICE_NAME: opts.service, VERSION: version, TRELLIS_JOIN_TOKEN: joinToken, TRELLIS_CA_FILE: cp.caFile, ...opts.env },
  );
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const w = { ...proc, adminUrl, httpProxyPort: httpProxyPort!, inboundPort: inbound, appPort: appPort!, upstreamPorts };
  if (opts.noWait) return w;
  await withOutput(
    proc,
    waitFor(() => httpOk(adminUrl + '/ready'), `proxy of ${opts.service} ready`, READY_TIMEOUT_MS),
  );
  await withOutput(
    proc,
    waitFor(() => tcpOpen(appPort!), `app of ${opts.service} listening on ${appPort}`, 10000),
  );
  if (!opts.noWaitEndpoint) await withOutput(proc, waitForEndpointReady(adminUrl, READY_TIMEOUT_MS));
  return w;
}

/** What a proxy says of its endpoint's readiness (its /config_dump). */
export async function endpointState(adminUrl: string): Promise<{ state: string; reason: string }> {
  const dump = (await (await fetch(`${adminUrl}/config_dump`, { signal: AbortSignal.timeout(5000) })).json()) as { endpoint: { state: string; reason: string } };
  return dump.endpoint;
}

/** Waits until the proxy reports its endpoint ready (sidecar serving, app passing its check). */
export async function waitForEndpointReady(adminUrl: string, timeoutMs = 20_000): Promise<void> {
  await waitFor(async () => (await endpointState(adminUrl)).state === 'ready', `the endpoint of the proxy at ${adminUrl} to be ready`, timeoutMs);
}

/** Applies resources through the REST API (all or nothing); throws with the API's error on failure. */
export async function applyResources(cp: ControlPlane, resources: unknown[]): Promise<unknown> {
  const res = await fetch(`${cp.apiUrl}/api/v1/apply`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${cp.token}` },
    body: JSON.stringify({ resources }),
  });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`apply failed (${res.status}): ${JSON.stringify(body)}`);
  return body;
}

export function httpService(name: string, selector: Record<string, string> = { app: name }, port = 8080) {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { selector, ports: [{ name: 'http', port, appProtocol: 'http' }] } };
}

export function grpcService(name: string, selector: Record<string, string> = { app: name }, port = 9000) {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { selector, ports: [{ name: 'grpc', port, appProtocol: 'grpc' }] } };
}

/** The Service taking plaintext beside mTLS (`trellis.io/mtls-mode: PERMISSIVE`), for a test that calls its inbound port as a client outside the mesh. */
export function permissive<S extends { metadata: object }>(service: S): S {
  return { ...service, metadata: { ...service.metadata, annotations: { 'trellis.io/mtls-mode': 'PERMISSIVE' } } };
}

export function httpRoute(name: string, parent: string, backends: { name: string; weight: number }[], port = 8080) {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: 'default' },
    spec: { parentRefs: [{ group: '', kind: 'Service', name: parent, port }], rules: [{ backendRefs: backends.map((b) => ({ name: b.name, port, weight: b.weight })) }] },
  };
}

/** Runs `trellis` to completion and returns its exit code and output. */
export function runCli(args: string[], env: Record<string, string> = {}, input?: string, timeoutMs = 20000): Promise<{ code: number; stdout: string; stderr: string }> {
  const [node, bin] = trellisArgv();
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout also ends what it started (the proxy of `trellis run`).
    const child = spawn(node, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      reject(new Error(`trellis ${args.join(' ')} timed out; output: ${stdout}${stderr}`));
    }, timeoutMs);
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}

/** Sum of a counter in a proxy's /metrics, over the series whose labels include `labels`. */
export async function counter(adminUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** GET through a local port; returns status, headers and parsed JSON (or text). */
export async function get(url: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, headers: res.headers, body };
}

/** Waits until GET `url` answers `status` (config reaches proxies asynchronously). */
export async function waitForStatus(url: string, status: number, timeoutMs = 10000): Promise<void> {
  await waitFor(async () => (await get(url)).status === status, `${url} to answer ${status}`, timeoutMs);
}
