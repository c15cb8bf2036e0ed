// Layer: request authentication (end-user JWTs, from RequestAuthentications), before
// authorization. No token: the request goes on unauthenticated (authorization decides; a
// listener whose JWT filter does not allow a missing token answers 401). A token that fails
// (signature, exp/nbf, issuer, audience, unknown kid, malformed): 401 with a challenge and the
// reason. A good one: ctx.jwt set (the principal and claims authorization reads), its claims
// copied to headers, the token removed unless forwarded. Verification is asynchronous
// (WebCrypto); a token verified (or refused) before is answered from the listener's cache at once.
import { createLogger } from '../../common/log.js';
import { findToken, withoutParam, type FoundToken, type JwtConfig } from '../config/jwt-config.js';
import { internalError, unauthenticated } from '../errors.js';
import type { Handler, HttpLayer } from '../http/layer.js';
import type { RequestContext } from '../http/request-context.js';
import type { UpstreamEdit } from '../http/upstream-headers.js';
import { JwtVerifier, type VerifiedJwt } from '../jwt/jwt-verifier.js';

const log = createLogger('proxy.jwt');
const NO_HEADERS: readonly string[] = [];

// One verifier (and its cache) per decoded JWT config: a new config (new keys) starts a new cache.
const verifiers = new WeakMap<JwtConfig, JwtVerifier>();
// What a request without a token gets upstream: no client-set claim header.
const noTokenEdits = new WeakMap<JwtConfig, UpstreamEdit>();

function verifierOf(config: JwtConfig): JwtVerifier {
  let v = verifiers.get(config);
  if (v === undefined) verifiers.set(config, (v = new JwtVerifier(config)));
  return v;
}

/** A claim's header value: strings as they are, numbers and booleans as text, lists of those joined by commas. */
function claimValue(payload: Readonly<Record<string, unknown>>, claim: string): string | undefined {
  let v: unknown = payload[claim];
  // Envoy reads nested claims by `.` (e.g. `realm.role`) when there is no claim of the whole name.
  if (v === undefined && claim.includes('.'))
    v = claim.split('.').reduce<unknown>((o, k) => (typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[k] : undefined), payload);
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean')) return v.join(',');
  return undefined;
}

function accept(ctx: RequestContext, jwt: VerifiedJwt, found: FoundToken): void {
  ctx.jwt = jwt;
  const p = jwt.provider;
  let added = NO_HEADERS;
  if (p.claimToHeaders.length > 0) {
    const out: string[] = [];
    for (const [header, claim] of p.claimToHeaders) {
      const v = claimValue(jwt.payload, claim);
      if (v !== undefined) out.push(header, v);
    }
    added = out;
  }
  if (found.param !== undefined && !p.forward) ctx.path = withoutParam(ctx.path, found.param);
  if (p.removedHeaders.size > 0 || added.length > 0) ctx.upstreamEdit = { removed: p.removedHeaders, added };
}

function refuse(ctx: RequestContext, reason: string, tokenPresent: boolean): void {
  log.info({ listener: ctx.listener.name, peer: ctx.peerIdentity, method: ctx.method, path: ctx.path, reason }, 'request refused: JWT not verified');
  ctx.fail(unauthenticated(reason, tokenPresent));
}

export const jwtLayer: HttpLayer = {
  name: 'jwt',
  request(ctx, next) {
    const config = ctx.listener.jwt;
    if (config === undefined) return next(ctx);
    const q = ctx.path.indexOf('?');
    const found = findToken(config, ctx, q < 0 ? '' : ctx.path.slice(q + 1));
    if (found === undefined) {
      if (!config.allowMissing) return refuse(ctx, 'a JWT is required', false);
      if (config.claimHeaders.size > 0) {
        let edit = noTokenEdits.get(config);
        if (edit === undefined) noTokenEdits.set(config, (edit = { removed: config.claimHeaders, added: NO_HEADERS }));
        ctx.upstreamEdit = edit;
      }
      return next(ctx);
    }
    const verifier = verifierOf(config);
    const hit = verifier.cached(found.token);
    if (hit !== undefined) {
      accept(ctx, hit, found);
      return next(ctx);
    }
    const failed = verifier.failedBefore(found.token);
    if (failed !== undefined) return refuse(ctx, failed, true);
    verifyThenNext(verifier, ctx, found, next);
  },
};

/** The first time a token is seen: verified off the hot path, then the request goes on (unless its client left). */
function verifyThenNext(verifier: JwtVerifier, ctx: RequestContext, found: FoundToken, next: Handler): void {
  verifier.verify(found.token).then(
    (outcome) => {
      if (ctx.done) return;
      if (!outcome.ok) return refuse(ctx, outcome.reason, true);
      accept(ctx, outcome.jwt, found);
      next(ctx);
    },
    (e: unknown) => ctx.fail(internalError(e)),
  );
}
