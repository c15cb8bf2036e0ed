// What the data plane holds for each bound listener, whatever its protocol.
import type net from 'node:net';
import { err, ok, type Result } from '../../common/result.js';
import { listenerBindFailed, type ProxyError } from '../errors.js';

export interface Listener {
  /** `protocol address:port` as configured: a new config with the same key keeps this listener. */
  readonly key: string;
  /** The address actually bound (the port differs from the config when it asked for 0). */
  readonly bound: net.AddressInfo;
  /** Stops accepting, lets open connections finish for up to `graceMs`, then closes them. */
  close(graceMs: number): Promise<void>;
}

/** The identity of a listener config across config swaps. */
export function listenerKey(protocol: string, address: string, port: number): string {
  return `${protocol} ${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/**
 * Binds `server` to address:port; a failure (port in use, address not local) is a value.
 * `ipv6Only` on an IPv6 address refuses IPv4 connections (Node.js's default is dual stack).
 */
export function bind(server: net.Server, name: string, address: string, port: number, ipv6Only = false): Promise<Result<net.AddressInfo, ProxyError>> {
  return new Promise((resolve) => {
    const onError = (e: Error) => {
      server.off('listening', onListening);
      resolve(err(listenerBindFailed(name, address, port, e)));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(ok(server.address() as net.AddressInfo));
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host: address, port, exclusive: true, ...(ipv6Only ? { ipv6Only } : {}) });
  });
}
