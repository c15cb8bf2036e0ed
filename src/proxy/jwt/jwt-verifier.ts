// Verifies end-user JWTs for one JWT config (jose: JWS over WebCrypto, JWK Set key selection,
// iss/aud/exp/nbf checks) and keeps the tokens it verified, by their string, until they expire,
// at most `maxEntries` (the oldest goes first): a client repeating its token pays one verification.
// Failed tokens are kept too, for a minute: a client retrying an expired or forged token in a loop
// costs a map lookup, not a signature check each time.
// jose is loaded on the first token (its modules cost a sidecar ~6 MB), so a sidecar with no
// RequestAuthentication never holds it.
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import type { JwtConfig, JwtProviderConfig } from '../config/jwt-config.js';

type Jose = typeof import('jose/jwt/verify') & typeof import('jose/jwt/decode') & typeof import('jose/jwks/local') & { errors: typeof import('jose/errors') };
let jose: Promise<Jose> | undefined;
const loadJose = (): Promise<Jose> =>
  (jose ??= Promise.all([import('jose/jwt/verify'), import('jose/jwt/decode'), import('jose/jwks/local'), import('jose/errors')]).then(([v, d, l, errors]) => ({
    ...v,
    ...d,
    ...l,
    errors,
  })));

/** A token that passed, with what authorization and the claim headers read of it. */
export interface VerifiedJwt {
  readonly provider: JwtProviderConfig;
  readonly payload: JWTPayload;
  /** `iss/sub`, Istio's request principal; undefined without both. */
  readonly principal: string | undefined;
  /** Until when (epoch ms) the cache may answer for it. */
  readonly cacheUntil: number;
}

export type JwtOutcome = { readonly ok: true; readonly jwt: VerifiedJwt } | { readonly ok: false; readonly reason: string };

/** Default bound of the verified-token cache per JWT config. */
export const DEFAULT_JWT_CACHE_ENTRIES = 1000;
/** A token without `exp` is kept this long at most. */
const MAX_CACHE_MS = 10 * 60_000;
/** A failed token is refused from the cache this long (an `nbf` in the future may become valid). */
const FAILED_CACHE_MS = 60_000;

export class JwtVerifier {
  readonly #cache = new Map<string, VerifiedJwt>();
  readonly #failed = new Map<string, { readonly reason: string; readonly until: number }>();
  /** Each provider's key lookup, made on its first token. */
  readonly #keys = new Map<JwtProviderConfig, JWTVerifyGetKey>();

  constructor(
    readonly config: JwtConfig,
    private readonly maxEntries = DEFAULT_JWT_CACHE_ENTRIES,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cached result for `token` if it is still valid, else undefined (synchronous: the hot path of a repeated token). */
  cached(token: string): VerifiedJwt | undefined {
    const hit = this.#cache.get(token);
    if (hit === undefined) return undefined;
    if (hit.cacheUntil > this.now()) return hit;
    this.#cache.delete(token);
    return undefined;
  }

  /** Why `token` failed, if it did within the last minute (synchronous, like `cached`). */
  failedBefore(token: string): string | undefined {
    const hit = this.#failed.get(token);
    if (hit === undefined) return undefined;
    if (hit.until > this.now()) return hit.reason;
    this.#failed.delete(token);
    return undefined;
  }

  /** Verified tokens kept. */
  get size(): number {
    return this.#cache.size;
  }

  /** Verifies `token` against the provider of its issuer; a good one is cached. */
  async verify(token: string): Promise<JwtOutcome> {
    const outcome = await this.#verify(token);
    if (!outcome.ok) this.#bounded(this.#failed, token, { reason: outcome.reason, until: this.now() + FAILED_CACHE_MS });
    return outcome;
  }

  async #verify(token: string): Promise<JwtOutcome> {
    const { decodeJwt, jwtVerify, createLocalJWKSet, errors } = await loadJose();
    let claimed: JWTPayload;
    try {
      claimed = decodeJwt(token);
    } catch (e) {
      return { ok: false, reason: `malformed token: ${(e as Error).message}` };
    }
    const provider = this.config.providers.find((p) => p.issuer === claimed.iss);
    if (provider === undefined) return { ok: false, reason: `issuer ${JSON.stringify(claimed.iss ?? null)} is not accepted here` };
    if (provider.keyCount === 0) return { ok: false, reason: `no keys of issuer ${provider.issuer} are available (its JWKS was never fetched)` };
    try {
      let keys = this.#keys.get(provider);
      if (keys === undefined) this.#keys.set(provider, (keys = createLocalJWKSet(provider.keys)));
      const { payload } = await jwtVerify(token, keys, {
        issuer: provider.issuer,
        ...(provider.audiences.length > 0 ? { audience: provider.audiences as string[] } : {}),
        clockTolerance: provider.clockSkewSeconds,
        currentDate: new Date(this.now()),
      });
      const now = this.now();
      const exp = typeof payload.exp === 'number' ? (payload.exp + provider.clockSkewSeconds) * 1000 : Infinity;
      const jwt: VerifiedJwt = {
        provider,
        payload,
        principal: typeof payload.iss === 'string' && typeof payload.sub === 'string' ? `${payload.iss}/${payload.sub}` : undefined,
        cacheUntil: Math.min(exp, now + MAX_CACHE_MS),
      };
      this.#bounded(this.#cache, token, jwt);
      return { ok: true, jwt };
    } catch (e) {
      return { ok: false, reason: failureReason(errors, e) };
    }
  }

  #bounded<V>(map: Map<string, V>, token: string, value: V): void {
    if (this.maxEntries <= 0) return;
    if (map.size >= this.maxEntries) map.delete(map.keys().next().value!);
    map.set(token, value);
  }
}

/** What the client is told of a failed token (never key material). */
function failureReason(errors: Jose['errors'], e: unknown): string {
  if (e instanceof errors.JWTExpired) return 'token expired (exp)';
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === 'nbf') return 'token not yet valid (nbf)';
    if (e.claim === 'aud') return 'audience not accepted (aud)';
    if (e.claim === 'iss') return 'issuer not accepted (iss)';
    return `claim ${e.claim} not valid: ${e.reason}`;
  }
  if (e instanceof errors.JWKSNoMatchingKey) return "no key of the issuer matches the token's kid and alg";
  if (e instanceof errors.JWKSMultipleMatchingKeys) return "several keys of the issuer match the token's kid and alg";
  if (e instanceof errors.JWSSignatureVerificationFailed) return 'signature verification failed';
  if (e instanceof errors.JOSEAlgNotAllowed || e instanceof errors.JOSENotSupported) return `algorithm not accepted: ${e.message}`;
  if (e instanceof errors.JOSEError) return `malformed token: ${e.message}`;
  return `token not verified: ${e instanceof Error ? e.message : String(e)}`;
}
