// The gRPC definition of Envoy's Aggregated Discovery Service, with DiscoveryRequest and
// DiscoveryResponse (de)serialized by protobufjs. Encoded resources are cached per object,
// so a resource shared by many proxies' snapshots is encoded once.
import type { ServiceDefinition } from '@grpc/grpc-js';
import { envoyRoot, encodeMessage, decodeMessage } from '../../xds/protos.js';
import type { ProtoStruct } from '../../xds/node-metadata.js';
import {
  ADS_METHOD_PATH,
  CLUSTER,
  CLUSTER_LOAD_ASSIGNMENT,
  CLUSTER_TYPE,
  DISCOVERY_REQUEST,
  DISCOVERY_RESPONSE,
  ENDPOINT_TYPE,
  LISTENER,
  LISTENER_TYPE,
  ROUTE_CONFIGURATION,
  ROUTE_TYPE,
  SECRET,
  SECRET_TYPE,
} from '../../xds/type-urls.js';

/** A DiscoveryRequest as decoded (fields absent when empty). */
export interface DiscoveryRequest {
  versionInfo?: string;
  node?: { id?: string; cluster?: string; metadata?: ProtoStruct; userAgentName?: string; userAgentVersion?: string };
  resourceNames?: string[];
  typeUrl?: string;
  responseNonce?: string;
  errorDetail?: { code?: number; message?: string };
}

/** A DiscoveryResponse to send: resources are Envoy resource objects of `typeUrl`'s message. */
export interface OutgoingResponse {
  versionInfo: string;
  typeUrl: string;
  nonce: string;
  resources: readonly object[];
}

const MESSAGE_OF_TYPE: Record<string, string> = {
  [LISTENER_TYPE]: LISTENER,
  [ROUTE_TYPE]: ROUTE_CONFIGURATION,
  [CLUSTER_TYPE]: CLUSTER,
  [ENDPOINT_TYPE]: CLUSTER_LOAD_ASSIGNMENT,
  [SECRET_TYPE]: SECRET,
};

// Resources are immutable (see Snapshot), so their encoding never goes stale.
const encoded = new WeakMap<object, Uint8Array>();

function encodeResource(typeUrl: string, resource: object): Uint8Array {
  let bytes = encoded.get(resource);
  if (!bytes) {
    const message = MESSAGE_OF_TYPE[typeUrl];
    if (!message) throw new Error(`no message type for type URL ${typeUrl} (expected one of ${Object.keys(MESSAGE_OF_TYPE).join(', ')})`);
    encoded.set(resource, (bytes = encodeMessage(message, resource)));
  }
  return bytes;
}

/** Encodes a response, each resource wrapped in an Any of its type URL. */
export function encodeResponse(r: OutgoingResponse): Buffer {
  const type = envoyRoot().lookupType(DISCOVERY_RESPONSE);
  const message = type.fromObject({
    versionInfo: r.versionInfo,
    typeUrl: r.typeUrl,
    nonce: r.nonce,
    // google.protobuf.Any comes from protobufjs's bundled JSON descriptor, which keeps the snake_case field name.
    resources: r.resources.map((res) => ({ type_url: r.typeUrl, value: encodeResource(r.typeUrl, res) })),
    controlPlane: { identifier: 'trellis' },
  });
  return Buffer.from(type.encode(message).finish());
}

export function decodeRequest(bytes: Buffer): DiscoveryRequest {
  return decodeMessage<DiscoveryRequest>(DISCOVERY_REQUEST, bytes);
}

/** The ADS service for a grpc-js server (`StreamAggregatedResources` only; delta xDS is not served). */
export const adsServiceDefinition: ServiceDefinition = {
  StreamAggregatedResources: {
    path: ADS_METHOD_PATH,
    requestStream: true,
    responseStream: true,
    requestSerialize: (r: DiscoveryRequest) => Buffer.from(encodeMessage(DISCOVERY_REQUEST, r)),
    requestDeserialize: decodeRequest,
    // The server encodes each response itself (encodeResponse) to measure it before writing.
    responseSerialize: (bytes: Buffer) => bytes,
    responseDeserialize: (bytes: Buffer) => decodeMessage<Record<string, unknown>>(DISCOVERY_RESPONSE, bytes),
  },
};
