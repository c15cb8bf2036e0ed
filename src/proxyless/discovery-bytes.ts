// DiscoveryRequest and DiscoveryResponse handled as bytes, for the agent's relay: the app's
// messages pass through untouched except for the request's `node`, which the agent replaces
// by its own, so fields Trellis's proto subset does not know are never lost on the way.
import protobuf from 'protobufjs';

/** DiscoveryRequest.node and DiscoveryResponse/DiscoveryRequest.type_url (field numbers of Envoy's protos). */
const REQUEST_NODE_FIELD = 2;
const TYPE_URL_FIELD = 4;
/** Node fields kept from the app's node: user_agent_name, user_agent_version, user_agent_build_version, client_features. */
const APP_NODE_FIELDS: ReadonlySet<number> = new Set([6, 7, 8, 10]);
const LENGTH_DELIMITED = 2;

/** One top-level field of an encoded message: its number, and where its bytes (tag included) start and end. */
interface RawField {
  field: number;
  start: number;
  end: number;
  /** The payload of a length-delimited field. */
  value?: Uint8Array;
}

function* fields(bytes: Uint8Array): Generator<RawField> {
  const r = protobuf.Reader.create(bytes);
  while (r.pos < r.len) {
    const start = r.pos;
    const tag = r.uint32();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === LENGTH_DELIMITED) {
      const value = r.bytes();
      yield { field, start, end: r.pos, value };
    } else {
      r.skipType(wire);
      yield { field, start, end: r.pos };
    }
  }
}

/** The `type_url` of an encoded DiscoveryRequest or DiscoveryResponse ('' when absent); throws on bytes that are not a message. */
export function typeUrlOf(message: Uint8Array): string {
  let url = '';
  for (const f of fields(message)) if (f.field === TYPE_URL_FIELD && f.value) url = Buffer.from(f.value).toString('utf8');
  return url;
}

/**
 * The request with its `node` replaced by `node` (an encoded envoy.config.core.v3.Node without
 * user agent fields), keeping the user agent and client features of the node the app sent, if
 * it sent one (gRPC sends its node in the first request of a stream only). Every other field is
 * copied as it came.
 */
export function withNode(request: Uint8Array, node: Uint8Array): Buffer {
  const kept: Uint8Array[] = [];
  const appNode: Uint8Array[] = [];
  for (const f of fields(request)) {
    if (f.field !== REQUEST_NODE_FIELD) kept.push(request.subarray(f.start, f.end));
    else if (f.value) for (const n of fields(f.value)) if (APP_NODE_FIELDS.has(n.field)) appNode.push(f.value.subarray(n.start, n.end));
  }
  const nodeLength = node.length + appNode.reduce((n, b) => n + b.length, 0);
  const header = protobuf.Writer.create()
    .uint32((REQUEST_NODE_FIELD << 3) | LENGTH_DELIMITED)
    .uint32(nodeLength)
    .finish();
  return Buffer.concat([header, node, ...appNode, ...kept]);
}
