// The Envoy messages a proxy decodes and encodes, loaded from the pruned descriptor in
// generated/ (see envoy-subset.ts) instead of the .proto tree the control plane loads: the
// proxy holds only the types it uses, and parses no .proto source at start.
import { createRequire } from 'node:module';
import protobuf from 'protobufjs';
import { messageCodec, type MessageCodec } from './message-codec.js';

const require = createRequire(import.meta.url);

let cached: protobuf.Root | undefined;

/** The Root of the proxy's Envoy types, loaded once per process. */
export function proxyRoot(): protobuf.Root {
  if (cached) return cached;
  // Through require: the JSON is parsed once and its text not kept (an ES JSON module warns on Node.js 20).
  const root = protobuf.Root.fromJSON(require('./generated/proxy-envoy-types.json') as protobuf.INamespace);
  root.resolveAll();
  cached = root;
  return root;
}

const codec = messageCodec(proxyRoot);
/** Encodes a plain object (proto3-JSON style, `@type` on Any) as the named message of the proxy's subset. */
export const encodeProxyMessage: MessageCodec['encode'] = codec.encode;
/** Decodes bytes of the named message of the proxy's subset into a plain object. */
export const decodeProxyMessage: MessageCodec['decode'] = codec.decode;
