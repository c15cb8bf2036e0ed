// The gRPC method of the Aggregated Discovery Service, built by hand from the Envoy protos
// loaded in src/xds/protos.ts (no proto-loader codegen), for the client and for test servers.
import type * as grpc from '@grpc/grpc-js';
import { decodeMessage, encodeMessage } from '../../xds/protos.js';
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
}

const toBuffer = (u8: Uint8Array): Buffer => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);

export const serializeRequest = (r: DiscoveryRequest): Buffer => toBuffer(encodeMessage(DISCOVERY_REQUEST, r));
export const deserializeRequest = (b: Buffer): DiscoveryRequest => decodeMessage<DiscoveryRequest>(DISCOVERY_REQUEST, b);
export const serializeResponse = (r: DiscoveryResponse): Buffer => toBuffer(encodeMessage(DISCOVERY_RESPONSE, r));
export const deserializeResponse = (b: Buffer): DiscoveryResponse => decodeMessage<DiscoveryResponse>(DISCOVERY_RESPONSE, b);

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
