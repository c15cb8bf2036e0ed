// The gRPC method of the Aggregated Discovery Service, built by hand over the proxy's subset of
// the Envoy protos (src/xds/proxy-protos.ts; no proto-loader codegen), for the client and for test servers.
import type * as grpc from '@grpc/grpc-js';
import { decodeProxyMessage, encodeProxyMessage, proxyRoot } from '../../xds/proxy-protos.js';
import { ADS_METHOD_PATH, DISCOVERY_REQUEST, DISCOVERY_RESPONSE } from '../../xds/type-urls.js';
import type { ProtoStruct } from '../../xds/node-metadata.js';

/** envoy.config.core.v3.Node in plain-object form. */
export interface XdsNode {
  id: string;
  cluster: string;
  metadata?: ProtoStruct;
  userAgentName?: string;
}

/** envoy.service.discovery.v3.DiscoveryRequest in plain-object form (protobufjs omits empty fields when decoding). */
export interface DiscoveryRequest {
  versionInfo?: string;
  node?: XdsNode;
  resourceNames?: string[];
  typeUrl: string;
  responseNonce?: string;
  /** google.rpc.Status; present on a NACK. */
  errorDetail?: { code: number; message: string };
}

/** envoy.service.discovery.v3.DiscoveryResponse in plain-object form; resources carry `@type`. */
export interface DiscoveryResponse {
  versionInfo?: string;
  resources?: unknown[];
  typeUrl: string;
  nonce?: string;
  /** Set when the envelope decoded but its resources did not: the client NACKs with this reason. */
  decodeError?: string;
}

const toBuffer = (u8: Uint8Array): Buffer => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);

export const serializeRequest = (r: DiscoveryRequest): Buffer => toBuffer(encodeProxyMessage(DISCOVERY_REQUEST, r));
export const deserializeRequest = (b: Buffer): DiscoveryRequest => decodeProxyMessage<DiscoveryRequest>(DISCOVERY_REQUEST, b);
export const serializeResponse = (r: DiscoveryResponse): Buffer => toBuffer(encodeProxyMessage(DISCOVERY_RESPONSE, r));
/**
 * Decodes a response. When its resources cannot be decoded, the envelope (type, version, nonce)
 * is still returned with `decodeError`, so the client can NACK it rather than lose the stream;
 * only an envelope that does not decode at all throws (grpc-js then ends the stream).
 */
export function deserializeResponse(b: Buffer): DiscoveryResponse {
  try {
    return decodeProxyMessage<DiscoveryResponse>(DISCOVERY_RESPONSE, b);
  } catch (e) {
    const envelope = proxyRoot().lookupType(DISCOVERY_RESPONSE).decode(b) as unknown as { versionInfo?: string; typeUrl?: string; nonce?: string };
    return { versionInfo: envelope.versionInfo ?? '', typeUrl: envelope.typeUrl ?? '', nonce: envelope.nonce ?? '', resources: [], decodeError: (e as Error).message };
  }
}

/** The ADS service for `grpc.Server.addService`, with `StreamAggregatedResources` as its one (bidi) method. */
export const ADS_SERVICE = {
  StreamAggregatedResources: {
    path: ADS_METHOD_PATH,
    requestStream: true,
    responseStream: true,
    requestSerialize: serializeRequest,
    requestDeserialize: deserializeRequest,
    responseSerialize: serializeResponse,
    responseDeserialize: deserializeResponse,
    originalName: 'streamAggregatedResources',
  },
} satisfies grpc.ServiceDefinition;
