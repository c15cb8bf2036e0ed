// Request authentication as the proxy holds it (decoded from Envoy's JWT filter): the providers
// (issuer, audiences, keys, where the token is read, claims to headers) and whether a request
// without a token passes. Immutable; built once per config, read on the hot path.
import type { JSONWebKeySet } from 'jose';

/** A request header a token is read from, after `prefix` (e.g. `Bearer `). */
export interface JwtHeaderSource {
  /** Lower-case. */
  readonly name: string;
  readonly prefix: string;
}

export interface JwtProviderConfig {
  /** The provider's name (Envoy's key: `namespace/name/jwtRules[i]`). */
  readonly name: string;
  readonly issuer: string;
  /** The token's `aud` must hold one of these; empty: not checked. */
  readonly audiences: readonly string[];
  /** The issuer's JWK Set (the verifier picks the key by the token's `kid` and `alg`). */
  readonly keys: JSONWebKeySet;
  /** Keys in the set: 0 when the control plane never obtained them (every token is refused). */
  readonly keyCount: number;
  readonly fromHeaders: readonly JwtHeaderSource[];
  readonly fromParams: readonly string[];
  /** `[header (lower-case), claim]` pairs copied upstream from a verified token. */
  readonly claimToHeaders: readonly (readonly [string, string])[];
  /** True: the token goes upstream too. */
  readonly forward: boolean;
  readonly clockSkewSeconds: number;
  /** Header names not copied upstream when this provider verified the token: every claim header, and every token header unless it forwards. */
  readonly removedHeaders: ReadonlySet<string>;
}

export interface JwtConfig {
  readonly providers: readonly JwtProviderConfig[];
  /** True: a request with no token passes (authorization decides); false: it is refused with 401. */
  readonly allowMissing: boolean;
  /** Every provider's claim headers: a client's own values never reach the app, token or not. */
  readonly claimHeaders: ReadonlySet<string>;
  /** Identifies the config among listeners (the typed config as received): equal sources, equal behaviour. */
  readonly source: string;
}

/** Where a request's token was found: the provider whose location held it, the token, and (for a query parameter) which. */
export interface FoundToken {
  readonly token: string;
  readonly param: string | undefined;
}

/**
 * The token of a request (the first location, in provider order, that holds one), or undefined.
 * `request.header` reads a lower-case header; `query` is the request target's query (after `?`), or ''.
 */
export function findToken(config: JwtConfig, request: { header(lowerName: string): string | undefined }, query: string): FoundToken | undefined {
  for (const p of config.providers) {
    for (const h of p.fromHeaders) {
      const v = request.header(h.name);
      if (v !== undefined && v.length > h.prefix.length && v.startsWith(h.prefix)) return { token: v.slice(h.prefix.length).trim(), param: undefined };
    }
    if (query === '') continue;
    for (const name of p.fromParams) {
      const v = queryParam(query, name);
      if (v !== undefined && v !== '') return { token: v, param: name };
    }
  }
  return undefined;
}

function queryParam(query: string, name: string): string | undefined {
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    if ((eq < 0 ? part : part.slice(0, eq)) !== name) continue;
    const raw = eq < 0 ? '' : part.slice(eq + 1);
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw; // a malformed escape: the token fails verification as it is
    }
  }
  return undefined;
}

/** `path` without the query parameter `name` (the token, when it is not forwarded). */
export function withoutParam(path: string, name: string): string {
  const q = path.indexOf('?');
  if (q < 0) return path;
  const kept = path
    .slice(q + 1)
    .split('&')
    .filter((part) => (part.indexOf('=') < 0 ? part : part.slice(0, part.indexOf('='))) !== name);
  return kept.length === 0 ? path.slice(0, q) : `${path.slice(0, q)}?${kept.join('&')}`;
}
