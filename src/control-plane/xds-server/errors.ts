// Error catalog of the xDS server: stable codes, and the gRPC status each ends a stream with.
import { status } from '@grpc/grpc-js';

export const XdsErrorCode = {
  /** The first request of a stream has no node id. */
  NODE_ID_MISSING: 'XDS_NODE_ID_MISSING',
  /** The node metadata is not a valid ProxyMetadata. */
  NODE_METADATA_INVALID: 'XDS_NODE_METADATA_INVALID',
  /** A newer stream with the same node id took over. */
  STREAM_REPLACED: 'XDS_STREAM_REPLACED',
  /** The control plane is shutting down. */
  SHUTTING_DOWN: 'XDS_SHUTTING_DOWN',
  /** A bug while handling a request. */
  INTERNAL: 'XDS_INTERNAL',
  /** No valid join token (missing, unknown, expired or revoked). */
  UNAUTHENTICATED: 'XDS_UNAUTHENTICATED',
  /** The join token is for another service than the proxy claims to run. */
  IDENTITY_MISMATCH: 'XDS_IDENTITY_MISMATCH',
  /** The proxy's CSR cannot be signed. */
  CSR_INVALID: 'XDS_CSR_INVALID',
  /** The proxy claims a label its join token does not allow (`app` other than its service, or one the token does not name). */
  LABEL_NOT_ALLOWED: 'XDS_LABEL_NOT_ALLOWED',
  /** The node id belongs to a workload of another identity (until that workload leaves the registry). */
  NODE_ID_OWNED: 'XDS_NODE_ID_OWNED',
} as const;
export type XdsErrorCode = (typeof XdsErrorCode)[keyof typeof XdsErrorCode];

/** The status a stream ends with: a gRPC code and `[CODE] message` as details. */
export interface StreamError {
  code: status;
  details: string;
}

const GRPC_CODES: Record<XdsErrorCode, status> = {
  XDS_NODE_ID_MISSING: status.INVALID_ARGUMENT,
  XDS_NODE_METADATA_INVALID: status.INVALID_ARGUMENT,
  XDS_STREAM_REPLACED: status.ABORTED,
  XDS_SHUTTING_DOWN: status.UNAVAILABLE,
  XDS_INTERNAL: status.INTERNAL,
  XDS_UNAUTHENTICATED: status.UNAUTHENTICATED,
  XDS_IDENTITY_MISMATCH: status.PERMISSION_DENIED,
  XDS_CSR_INVALID: status.INVALID_ARGUMENT,
  XDS_LABEL_NOT_ALLOWED: status.PERMISSION_DENIED,
  XDS_NODE_ID_OWNED: status.PERMISSION_DENIED,
};

/** A stream error with the catalog's gRPC code for `code`. */
export function streamError(code: XdsErrorCode, message: string): StreamError {
  return { code: GRPC_CODES[code], details: `[${code}] ${message}` };
}
