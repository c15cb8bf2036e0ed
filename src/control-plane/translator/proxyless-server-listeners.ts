// Server listeners of proxyless gRPC servers (the bootstrap's server listener template).
// Placeholder until they are built: no name resolves to one yet.
import type { Listener } from '../../xds/envoy-types.js';
import type { ProxyNode, TranslatorInput } from './types.js';

/** The Listener of a proxyless gRPC server binding the address in `name`, or undefined (and a warning) when it has none. */
export function grpcServerListener(_input: TranslatorInput, _node: ProxyNode, _name: string, _warnings: Set<string>): Listener | undefined {
  return undefined;
}
