// How clients of the control plane (the CLI, proxies, the demo) trust its TLS certificate: the
// mesh trust bundle from --ca-file, else $TRELLIS_CA_FILE, else the bundle in the default data
// directory when the control plane runs on this host (`./trellis-data/ca/trust-bundle.pem`, or
// under $TRELLIS_DATA_DIR). Requests then go through an HTTPS agent that trusts exactly it.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';

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

export type FetchFn = (url: string, init?: RequestInit) => Promise<Response>;

/** One agent per distinct bundle content, so connections are reused until the roots change. */
const agents = new Map<string, Agent>();

function agentFor(pem: string): Agent {
  let agent = agents.get(pem);
  if (!agent) {
    agent = new Agent({ connect: { ca: pem, minVersion: 'TLSv1.2' } });
    agents.set(pem, agent);
  }
  return agent;
}

/**
 * A fetch that trusts the mesh roots in `caFile` for https URLs; plain fetch when there is no
 * file (http URLs, or a certificate the system trusts). The file is read at every request, so
 * a long-running command follows a root rotation (the control plane rewrites the bundle).
 */
export function trustingFetch(caFile: string | undefined = trustBundleFile()): FetchFn {
  if (caFile === undefined) return (url, init) => fetch(url, init);
  const file = caFile;
  // undici's own fetch with its own Agent: the global fetch's bundled undici may differ in version.
  return async (url, init) => {
    const dispatcher = agentFor(readTrustBundle(file));
    return undiciFetch(url, { ...(init as object), dispatcher } as Parameters<typeof undiciFetch>[1]) as unknown as Promise<Response>;
  };
}
