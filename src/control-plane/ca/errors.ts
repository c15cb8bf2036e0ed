// Error codes of the certificate authority and the token store (STYLE 6).

export type CaErrorCode = 'CSR_INVALID' | 'CA_ROTATE_FAILED' | 'TOKEN_INVALID' | 'TOKEN_EXPIRED' | 'TOKEN_REVOKED' | 'TOKEN_NOT_FOUND' | 'IDENTITY_MISMATCH';

export interface CaError {
  readonly code: CaErrorCode;
  readonly message: string;
}

export const caError = (code: CaErrorCode, message: string): CaError => ({ code, message });
