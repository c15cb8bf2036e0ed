// Loads the Envoy v3 API protos shipped in @grpc/grpc-js-xds (folder deps/) into one
// protobufjs Root, for the control plane's xDS server and tests; the proxy decodes with the
// subset of it in proxy-protos.ts, generated from this Root (envoy-subset.ts).
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import protobuf from 'protobufjs';
import { messageCodec, type MessageCodec } from './message-codec.js';

const require = createRequire(import.meta.url);

/** The proto files whose messages Trellis sends or receives; their imports load with them. */
const ENTRY_FILES = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/transport_sockets/tls/v3/secret.proto',
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/filters/network/rbac/v3/rbac.proto',
  'envoy/extensions/filters/http/jwt_authn/v3/config.proto',
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit.proto',
  'envoy/extensions/filters/listener/original_dst/v3/original_dst.proto',
  'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
  'envoy/extensions/filters/listener/http_inspector/v3/http_inspector.proto',
  'envoy/config/trace/v3/opentelemetry.proto',
  'xds/type/v3/typed_struct.proto',
  'envoy/extensions/access_loggers/stream/v3/stream.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
];

let cached: protobuf.Root | undefined;

function includeDirs(): string[] {
  const base = path.dirname(require.resolve('@grpc/grpc-js-xds/package.json'));
  return ['deps/envoy-api', 'deps/xds', 'deps/googleapis', 'deps/protoc-gen-validate'].map((d) => path.join(base, d));
}

/** The Root with every Envoy message Trellis uses, loaded once per process. */
export function envoyRoot(): protobuf.Root {
  if (cached) return cached;
  // descriptor.proto is imported by the validation annotations; protobufjs bundles it as JSON.
  const descriptor = require('protobufjs/google/protobuf/descriptor.json') as { nested: { google: { nested: { protobuf: { nested: Record<string, unknown> } } } } };
  protobuf.common('descriptor', descriptor.nested.google.nested.protobuf.nested);
  const dirs = includeDirs();
  const root = new protobuf.Root();
  root.resolvePath = (_origin: string, target: string): string => {
    if (target.startsWith('google/protobuf/')) return target; // bundled with protobufjs
    for (const dir of dirs) {
      const full = path.join(dir, target);
      try {
        accessSync(full, constants.R_OK);
        return full;
      } catch {
        continue;
      }
    }
    throw new Error(`proto file ${target} not found in @grpc/grpc-js-xds/deps (looked in ${dirs.join(', ')})`);
  };
  root.loadSync(ENTRY_FILES, { keepCase: false });
  root.resolveAll();
  cached = root;
  return root;
}

export { TO_OBJECT } from './message-codec.js';

const codec = messageCodec(envoyRoot);
/** Encodes a plain object (proto3-JSON style, `@type` on Any) as the named message. */
export const encodeMessage: MessageCodec['encode'] = codec.encode;
/** Decodes bytes of the named message into a plain object (see TO_OBJECT). */
export const decodeMessage: MessageCodec['decode'] = codec.decode;
