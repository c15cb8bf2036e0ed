// The certificate authority area: the CA itself and its errors.
export {
  CertificateAuthority,
  DEFAULT_ROOT_OVERLAP_SECONDS,
  DEFAULT_WORKLOAD_TTL_SECONDS,
  type CaOptions,
  type CaStatus,
  type IssuedCertificate,
  type SuppliedCa,
} from './certificate-authority.js';
export { caError, type CaError, type CaErrorCode } from './errors.js';
