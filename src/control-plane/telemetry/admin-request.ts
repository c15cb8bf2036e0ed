// Where the control plane reaches a proxy's admin listener (request stats, tap): its Unix
// socket when it reported one (a proxy in another network namespace, whose 127.0.0.1 is not
// ours), else 127.0.0.1:adminPort. The one place that decides it, for every admin request.
import type { RequestOptions } from 'node:http';
import type { ProxyStatus } from '../../api/proxy-status.js';

/** Options for a request to `path` on `p`'s admin listener, or undefined when `p` has none to reach (not connected). */
export function adminRequestOptions(p: ProxyStatus, path: string): RequestOptions | undefined {
  if (!p.connected) return undefined;
  if (p.adminSocket !== undefined) return { socketPath: p.adminSocket, path };
  if (p.adminPort !== undefined) return { host: '127.0.0.1', port: p.adminPort, path };
  return undefined;
}

/** How an admin listener is reached, for messages: `unix:PATH` or `127.0.0.1:PORT`. */
export function describeAdmin(o: RequestOptions): string {
  return o.socketPath !== undefined ? `unix:${o.socketPath}` : `${String(o.host)}:${String(o.port)}`;
}
