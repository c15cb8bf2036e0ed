// The Envoy TLS messages Trellis sends and reads (transport sockets and SDS secrets), in the
// plain-object form of envoy-types.ts. Certificates travel as PEM in `inlineString`.
import type { AdsConfigSource } from './envoy-types.js';

export interface DataSource {
  inlineString: string;
}
export interface SdsSecretConfig {
  name: string;
  sdsConfig: AdsConfigSource;
}
export interface StringMatcher {
  exact?: string;
  prefix?: string;
}
export interface SubjectAltNameMatcher {
  sanType: 'URI' | 'DNS';
  matcher: StringMatcher;
}
/** A certificate provider instance of the data plane's bootstrap (gRPC A29: `certificate_providers`, e.g. a file watcher). */
export interface CertificateProviderPluginInstance {
  instanceName: string;
  certificateName?: string;
}
export interface CertificateValidationContext {
  trustedCa?: DataSource;
  /** The system's CAs (TLS origination to external hosts without a given CA). */
  systemRootCerts?: Record<string, never>;
  /** The roots from a certificate provider instance (proxyless gRPC) instead of SDS. */
  caCertificateProviderInstance?: CertificateProviderPluginInstance;
  matchTypedSubjectAltNames?: SubjectAltNameMatcher[];
  /** Proxyless gRPC (A29): the SANs accepted. */
  matchSubjectAltNames?: StringMatcher[];
}
export interface TlsParameters {
  tlsMinimumProtocolVersion?: 'TLSv1_2' | 'TLSv1_3';
  tlsMaximumProtocolVersion?: 'TLSv1_2' | 'TLSv1_3';
}
/** The certificate comes from SDS (Trellis proxy, Envoy) or from a certificate provider instance (proxyless gRPC, A29). */
export interface CommonTlsContext {
  tlsParams?: TlsParameters;
  /** Absent for proxyless gRPC, which takes its certificate from `tlsCertificateProviderInstance`. */
  tlsCertificateSdsSecretConfigs?: SdsSecretConfig[];
  tlsCertificateProviderInstance?: CertificateProviderPluginInstance;
  validationContext?: CertificateValidationContext;
  combinedValidationContext?: { defaultValidationContext: CertificateValidationContext; validationContextSdsSecretConfig: SdsSecretConfig };
  validationContextSdsSecretConfig?: SdsSecretConfig;
  alpnProtocols?: string[];
}
export interface UpstreamTlsContext {
  '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
  commonTlsContext: CommonTlsContext;
  sni?: string;
}
export interface DownstreamTlsContext {
  '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
  commonTlsContext: CommonTlsContext;
  requireClientCertificate?: { value: boolean };
}
export interface TransportSocket {
  name: 'envoy.transport_sockets.tls';
  typedConfig: UpstreamTlsContext | DownstreamTlsContext;
}

/**
 * An SDS Secret: the workload's chain (no key: it stays in the proxy), the trust bundle, or a
 * gateway's certificate with its key (only under the `gateway~` prefix, only to that gateway).
 */
export interface Secret {
  name: string;
  tlsCertificate?: { certificateChain: DataSource; privateKey?: DataSource };
  validationContext?: { trustedCa: DataSource };
}
