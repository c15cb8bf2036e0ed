// Where the sockets beside a control plane's xDS Unix socket live: the files through which a
// proxy in another network namespace and the control plane reach each other (namespaces
// share the file system, not 127.0.0.1). Both sides derive the names here, so they agree.
import path from 'node:path';

/** The control plane's OTLP/HTTP span receiver beside its xDS socket: `/run/x/xds.sock` -> `/run/x/xds.otlp.sock`. */
export function otlpSocketBeside(xdsSocket: string): string {
  return path.join(path.dirname(xdsSocket), `${path.basename(xdsSocket, '.sock')}.otlp.sock`);
}

/** The admin socket of the proxy in network namespace `netns`, beside the xDS socket it uses. */
export function adminSocketBeside(xdsSocket: string, netns: string): string {
  return path.join(path.dirname(xdsSocket), `trellis-admin-${netns}.sock`);
}

/** The socket path of an xDS address `unix:PATH`, or undefined for host:port. */
export function xdsSocketOf(xdsAddress: string): string | undefined {
  return xdsAddress.startsWith('unix:') ? xdsAddress.slice('unix:'.length) : undefined;
}
