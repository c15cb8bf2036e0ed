// The REST API's error catalog: stable codes, their HTTP statuses, and how store errors map to them.
import type { StoreError, StoreErrorCode } from '../store/errors.js';
import type { ApiProblem } from './types.js';

export type RestErrorCode =
  | 'VALIDATION_FAILED'
  | 'BAD_REQUEST'
  | 'INVALID_JSON'
  | 'PATH_MISMATCH'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'BODY_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'STORE_UNAVAILABLE'
  | 'INTERNAL';

export interface ApiError {
  status: number;
  code: RestErrorCode | StoreErrorCode;
  message: string;
  problems?: ApiProblem[];
  /** Extra response headers (e.g. `allow` for 405). */
  headers?: Record<string, string>;
}

const STATUS: Record<RestErrorCode, number> = {
  VALIDATION_FAILED: 400,
  BAD_REQUEST: 400,
  INVALID_JSON: 400,
  PATH_MISMATCH: 400,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  STORE_UNAVAILABLE: 503,
  INTERNAL: 500,
};

export const apiError = (code: RestErrorCode, message: string, extra: Pick<ApiError, 'problems' | 'headers'> = {}): ApiError => ({ status: STATUS[code], code, message, ...extra });

const STORE_STATUS: Record<StoreErrorCode, number> = {
  STORE_CONFLICT: 409,
  STORE_ALREADY_EXISTS: 409,
  STORE_NOT_FOUND: 404,
  STORE_DUPLICATE_CHANGE: 400,
  // Not reachable through the API's calls, but a status is still needed.
  STORE_WATCH_EXPIRED: 410,
  STORE_LOCKED: 503,
  STORE_CORRUPT: 503,
  STORE_NOT_EMPTY: 409,
  STORE_IO: 503,
  STORE_CLOSED: 503,
};

/** Store errors keep their code, so clients see e.g. STORE_CONFLICT with HTTP 409. */
export const fromStoreError = (e: StoreError): ApiError => ({ status: STORE_STATUS[e.code], code: e.code, message: e.message });
