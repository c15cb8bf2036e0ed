// The readiness check of the application behind a sidecar, as a Kubernetes readiness probe:
// a TCP connect to the app's port, or an HTTP GET of a path answering 200-399.
import net from 'node:net';
import { http } from '../../common/node-http.js';
import { err, ok, type Result } from '../../common/result.js';

/** How the app is checked: `none` counts it ready as soon as the sidecar serves. */
export type ProbeSpec = { readonly kind: 'none' } | { readonly kind: 'tcp' } | { readonly kind: 'http'; readonly path: string };

/** One check's verdict; `reason` says what failed. */
export type ProbeResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** A check of the app, run by ReadinessTracker; never rejects. */
export type AppProbe = () => Promise<ProbeResult>;

/** Parses `none`, `tcp` or `http:/path` (the `--readiness-probe` flag). */
export function parseProbeSpec(value: string): Result<ProbeSpec, string> {
  if (value === 'none' || value === 'tcp') return ok({ kind: value });
  if (value.startsWith('http:')) {
    const path = value.slice('http:'.length);
    // No space or control character: the path goes into the request line as it is.
    if (path.startsWith('/') && ![...path].some((c) => c <= ' ' || c === '\x7f')) return ok({ kind: 'http', path });
  }
  return err(`expected none, tcp or http:/PATH (e.g. http:/healthz), got ${JSON.stringify(value)}`);
}

/** The spec in the form parseProbeSpec reads (for argv passed on). */
export function formatProbeSpec(spec: ProbeSpec): string {
  return spec.kind === 'http' ? `http:${spec.path}` : spec.kind;
}

/** The check of `spec` against the app on 127.0.0.1:`port`, each attempt bounded by `timeoutMs`; undefined for `none`. */
export function appProbe(spec: ProbeSpec, port: number, timeoutMs: number): AppProbe | undefined {
  switch (spec.kind) {
    case 'none':
      return undefined;
    case 'tcp':
      return () => tcpProbe(port, timeoutMs);
    case 'http':
      return () => httpProbe(port, spec.path, timeoutMs);
  }
}

function tcpProbe(port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port, timeout: timeoutMs });
    const done = (r: ProbeResult) => {
      socket.destroy();
      resolve(r);
    };
    socket.once('connect', () => done({ ok: true }));
    socket.once('timeout', () => done({ ok: false, reason: `TCP connect to 127.0.0.1:${port} took over ${timeoutMs} ms` }));
    socket.once('error', (e) => done({ ok: false, reason: `TCP connect to 127.0.0.1:${port} failed: ${e.message}` }));
  });
}

function httpProbe(port: number, path: string, timeoutMs: number): Promise<ProbeResult> {
  const target = `http://127.0.0.1:${port}${path}`;
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'GET', agent: false, timeout: timeoutMs, headers: { 'user-agent': 'trellis-readiness-probe' } }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve(status >= 200 && status < 400 ? { ok: true } : { ok: false, reason: `GET ${target} answered ${status}, expected 200-399` });
    });
    req.once('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.once('error', (e) => resolve({ ok: false, reason: `GET ${target} failed: ${e.message}` }));
    req.end();
  });
}
