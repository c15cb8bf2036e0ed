// The RequestAuthentication kind (trellis.dev/v1alpha1): which end-user tokens (JWTs) the
// proxies of a Service accept, where their keys come from, and what reaches the app of them.

/** Where a token is read from a request header: `prefix` is stripped from the value (e.g. `Bearer `). */
export interface JwtHeaderLocation {
  name: string;
  prefix?: string;
}

/** One issuer's tokens. Exactly one of `jwks`, `jwksUri` and `jwksFile` says where its keys come from. */
export interface JwtRule {
  issuer: string;
  /** The token's `aud` must hold one of these; absent: not checked. */
  audiences?: string[];
  /** A JWK Set, inline as JSON. */
  jwks?: string;
  /** A JWK Set the control plane fetches and refreshes (http:// or https://). */
  jwksUri?: string;
  /** A JWK Set file on the control plane's host, read and re-read by it. */
  jwksFile?: string;
  /** Headers the token is read from; with neither this nor `fromParams`: `Authorization: Bearer <token>`. */
  fromHeaders?: JwtHeaderLocation[];
  /** Query parameters the token is read from. */
  fromParams?: string[];
  /** Claims copied into request headers for the app (a client's own header of that name is replaced). */
  outputClaimToHeaders?: { header: string; claim: string }[];
  /** True: the app gets the token too; default false: it is removed before the app. */
  forwardOriginalToken: boolean;
}

export interface RequestAuthenticationSpec {
  /** What it applies to: a Service (its sidecars), or a Gateway; absent: every Service in the namespace. */
  targetRef?: { kind: 'Service' | 'Gateway'; name: string };
  jwtRules: JwtRule[];
}

export interface RequestAuthentication {
  apiVersion: 'trellis.dev/v1alpha1';
  kind: 'RequestAuthentication';
  metadata: import('./resource.js').ObjectMeta & { namespace: string };
  spec: RequestAuthenticationSpec;
}
