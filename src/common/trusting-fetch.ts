// A fetch for clients of the control plane (the CLI, the demo, benches) that trusts exactly the
// mesh trust bundle (see control-plane-trust.ts), through undici: kept apart so that a proxy,
// which only reads the bundle, does not load undici.
import { Agent, fetch as undiciFetch } from 'undici';
import { readTrustBundle, trustBundleFile } from './control-plane-trust.js';

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
    return undiciFetch(url, { ...(init as object), dispatcher });
  };
}
