// How clients of the control plane (the CLI, proxies, the demo) trust its TLS certificate: the
// mesh trust bundle from --ca-file, else $TRELLIS_CA_FILE, else the bundle in the default data
// directory when the control plane runs on this host (`./trellis-data/ca/trust-bundle.pem`, or
// under $TRELLIS_DATA_DIR). trusting-fetch.ts makes requests that trust exactly it.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const CA_FILE_ENV = 'TRELLIS_CA_FILE';
const DEFAULT_DATA_DIR = './trellis-data';

/** The trust bundle file to use, or undefined when none is given and none is found. */
export function trustBundleFile(flag?: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (flag) return flag;
  if (env[CA_FILE_ENV]) return env[CA_FILE_ENV];
  const local = path.join(env.TRELLIS_DATA_DIR ?? DEFAULT_DATA_DIR, 'ca', 'trust-bundle.pem');
  return existsSync(local) ? local : undefined;
}

/** The PEM roots in `file`; throws a message naming the file and what is wrong with it. */
export function readTrustBundle(file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the mesh trust bundle ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`the mesh trust bundle ${file} holds no PEM certificate`);
  return pem;
}
