// Starts a server listening, turning a bind failure into one clear message.
import type { Server } from 'node:net';
import type { AddressInfo } from 'node:net';

/** Listens on host:port and resolves with the bound port; rejects with `cannot serve <what> on host:port: <reason>`. */
export function listen(server: Server, host: string, port: number, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      reject(new Error(`cannot serve ${what} on ${host}:${port}: ${e.code === 'EADDRINUSE' ? 'address in use' : e.message}`));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
