// Stopping a grpc-js server: calls in flight get `graceMs` to finish, then it is forced, so a
// peer that keeps its connection open (a proxy, an application's xDS client) cannot hold up an exit.
import type * as grpc from '@grpc/grpc-js';

export function shutdownGrpcServer(server: grpc.Server, graceMs = 1000): Promise<void> {
  return new Promise<void>((resolve) => {
    const force = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}
