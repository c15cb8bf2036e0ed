// Encoding and decoding of Envoy messages as plain objects in proto3-JSON style (`@type` on
// Any), over a protobufjs Root: the full one of the control plane (protos.ts) or the proxy's
// subset (proxy-protos.ts), so both sides turn bytes into the same objects.
import type protobuf from 'protobufjs';

/** Options for turning decoded messages into plain objects in proto3-JSON style (`@type` on Any). */
export const TO_OBJECT: protobuf.IConversionOptions = { json: true, enums: String, longs: Number, defaults: false };

export interface MessageCodec {
  /** Encodes a plain object (proto3-JSON style, `@type` on Any) as the named message. */
  encode: (typeName: string, value: object) => Uint8Array;
  /** Decodes bytes of the named message into a plain object (see TO_OBJECT). */
  decode: <T = Record<string, unknown>>(typeName: string, bytes: Uint8Array) => T;
}

/** A codec over the Root `root()` returns (loaded on first use). */
export function messageCodec(root: () => protobuf.Root): MessageCodec {
  return {
    encode(typeName, value) {
      const type = root().lookupType(typeName);
      return type.encode(type.fromObject(value)).finish();
    },
    decode<T>(typeName: string, bytes: Uint8Array): T {
      const type = root().lookupType(typeName);
      return type.toObject(type.decode(bytes), TO_OBJECT) as T;
    },
  };
}
