// The AuthorizationPolicy kind (trellis.dev/v1alpha1): who may call a Service, and with what.

/** A caller: every field given must match (service accounts and namespaces are each any-of). */
export interface AuthorizationSource {
  /** `name` (in the policy's namespace) or `namespace/name`. */
  serviceAccounts?: string[];
  namespaces?: string[];
  /** True: any caller with a mesh identity (mTLS). */
  authenticated?: boolean;
  /** The end user's principal `iss/sub` from a verified JWT (RequestAuthentication): exact, `*`, `prefix*` or `*suffix`. */
  requestPrincipals?: string[];
  /** The request's principal is none of these (a request without a token matches). */
  notRequestPrincipals?: string[];
}

/** A condition on the request's verified JWT: its value at `key` is one of `values` (and none of `notValues`). */
export interface AuthorizationCondition {
  /** `request.auth.principal`, `request.auth.audiences`, `request.auth.presenter` or `request.auth.claims[NAME]` (nested: `[a][b]`). */
  key: string;
  values?: string[];
  notValues?: string[];
}

/** What is called (HTTP and gRPC only): every field given must match. */
export interface AuthorizationOperation {
  methods?: string[];
  paths?: ({ exact: string } | { prefix: string })[];
  headers?: { name: string; exact?: string; prefix?: string; present?: boolean }[];
}

/** A rule matches when some `from` and some `to` match (an absent list matches everything). */
export interface AuthorizationRule {
  from?: AuthorizationSource[];
  to?: AuthorizationOperation[];
  /** Every condition must hold (HTTP only). */
  when?: AuthorizationCondition[];
}

export interface AuthorizationPolicySpec {
  /** The Service it protects; absent: every Service in the policy's namespace. */
  targetRef?: { kind: 'Service'; name: string };
  action: 'ALLOW' | 'DENY';
  rules: AuthorizationRule[];
}

export interface AuthorizationPolicy {
  apiVersion: 'trellis.dev/v1alpha1';
  kind: 'AuthorizationPolicy';
  metadata: import('./resource.js').ObjectMeta & { namespace: string };
  spec: AuthorizationPolicySpec;
}
