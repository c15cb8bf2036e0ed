// How to start another `trellis` process (the proxy beside an app, the control plane in the demo).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file compiles to dist/src/common/self.js). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The argv prefix that runs `trellis` with the same Node.js as this process. */
export function trellisArgv(): [string, string] {
  return [process.execPath, path.join(PROJECT_ROOT, 'bin/trellis.js')];
}
