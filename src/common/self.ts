// How to start another `trellis` process (the proxy beside an app, the control plane in the demo).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file compiles to dist/src/common/self.js). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The argv prefix that runs `trellis` with the same Node.js as this process. */
export function trellisArgv(): [string, string] {
  return [process.execPath, path.join(PROJECT_ROOT, 'bin/trellis.js')];
}

/**
 * The Node.js/V8 flags a sidecar runs with, each chosen by a measurement (docs/benchmarks.md,
 * "Sidecar memory"): semi-spaces of 2 MB instead of V8's default 16 MB, which Node.js 24
 * commits from the start (a sidecar's young objects live for one request): 13 MB less
 * anonymous memory idle, 24 MB less under load, no measurable cost in CPU per request.
 */
export const SIDECAR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];

/** The argv prefix that runs `trellis proxy` as a sidecar: this process's Node.js with SIDECAR_NODE_FLAGS. */
export function proxyArgv(): string[] {
  const [node, bin] = trellisArgv();
  return [node, ...SIDECAR_NODE_FLAGS, bin, 'proxy'];
}
