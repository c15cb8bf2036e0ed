// Decodes Envoy's JWT filter config (JwtAuthentication) into the proxy's JwtConfig: providers
// with inline keys (local_jwks), token locations, claims to headers, forward; one rule for every
// path requiring one of the providers, or none (allow_missing). What the proxy would not enforce
// as written (remote JWKS, per-route requirements, other fields) is refused, never ignored.
import type { JSONWebKeySet } from 'jose';
import type { JwtConfig, JwtHeaderSource, JwtProviderConfig } from '../config/jwt-config.js';
import { at, idx, isObj, type Obj, type ProblemSink } from './decode-fields.js';
import { XDS_PROBLEM, show } from './errors.js';

const PROVIDER_FIELDS = new Set(['issuer', 'audiences', 'localJwks', 'forward', 'fromHeaders', 'fromParams', 'claimToHeaders', 'payloadInMetadata', 'clockSkewSeconds']);
/** Envoy's default clock_skew_seconds. */
const DEFAULT_CLOCK_SKEW_SECONDS = 60;
const DEFAULT_HEADERS: readonly JwtHeaderSource[] = [{ name: 'authorization', prefix: 'Bearer ' }];

const strings = (s: ProblemSink, raw: unknown, path: string): string[] => {
  if (raw === undefined) return [];
  if (Array.isArray(raw) && raw.every((x) => typeof x === 'string' && x !== '')) return raw as string[];
  s.add(path, XDS_PROBLEM.INVALID, `must be a list of non-empty strings, got ${show(raw)}`);
  return [];
};

function decodeKeys(s: ProblemSink, p: Obj, path: string): { keys: JSONWebKeySet; count: number } | undefined {
  if (p.remoteJwks !== undefined)
    return s.add(at(path, 'remoteJwks'), XDS_PROBLEM.UNSUPPORTED, 'Trellis proxy takes keys only inline (localJwks.inlineString): the control plane fetches them');
  const inline = isObj(p.localJwks) ? p.localJwks.inlineString : undefined;
  if (typeof inline !== 'string') return s.add(at(path, 'localJwks'), XDS_PROBLEM.REQUIRED, `required: a JWK Set in localJwks.inlineString, got ${show(p.localJwks)}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(inline);
  } catch (e) {
    return s.add(at(path, 'localJwks.inlineString'), XDS_PROBLEM.INVALID, `must be a JWK Set in JSON: ${(e as Error).message}`);
  }
  if (!isObj(parsed) || !Array.isArray(parsed.keys)) return s.add(at(path, 'localJwks.inlineString'), XDS_PROBLEM.INVALID, 'must be a JWK Set: a JSON object with a "keys" list');
  // An empty set is what the control plane sends for keys it never obtained: every token fails.
  return { keys: parsed as unknown as JSONWebKeySet, count: parsed.keys.length };
}

type DecodedProvider = Omit<JwtProviderConfig, 'removedHeaders'>;

function decodeProvider(s: ProblemSink, name: string, raw: unknown, path: string, payloadKey: string): DecodedProvider | undefined {
  if (!isObj(raw)) return s.add(path, XDS_PROBLEM.INVALID, `must be a JwtProvider, got ${show(raw)}`);
  const extra = Object.keys(raw).filter((k) => !PROVIDER_FIELDS.has(k) && k !== 'remoteJwks');
  if (extra.length > 0) s.add(at(path, extra[0]!), XDS_PROBLEM.UNSUPPORTED, `not supported by Trellis proxy (supported: ${[...PROVIDER_FIELDS].join(', ')})`);
  if (typeof raw.issuer !== 'string' || raw.issuer === '')
    s.add(at(path, 'issuer'), XDS_PROBLEM.REQUIRED, "required: the issuer (Trellis proxy picks the provider by the token's iss)");
  if (raw.payloadInMetadata !== payloadKey)
    s.add(at(path, 'payloadInMetadata'), XDS_PROBLEM.UNSUPPORTED, `must be ${show(payloadKey)}: authorization reads the payload there, got ${show(raw.payloadInMetadata)}`);
  const keys = decodeKeys(s, raw, path);
  const audiences = strings(s, raw.audiences, at(path, 'audiences'));
  const params = strings(s, raw.fromParams, at(path, 'fromParams'));
  const headers: JwtHeaderSource[] = [];
  (Array.isArray(raw.fromHeaders) ? raw.fromHeaders : []).forEach((h, i) => {
    if (isObj(h) && typeof h.name === 'string' && h.name !== '') headers.push({ name: h.name.toLowerCase(), prefix: typeof h.valuePrefix === 'string' ? h.valuePrefix : '' });
    else s.add(idx(at(path, 'fromHeaders'), i), XDS_PROBLEM.INVALID, `must be a JwtHeader with a name, got ${show(h)}`);
  });
  const claims: [string, string][] = [];
  (Array.isArray(raw.claimToHeaders) ? raw.claimToHeaders : []).forEach((c, i) => {
    if (isObj(c) && typeof c.headerName === 'string' && c.headerName !== '' && typeof c.claimName === 'string' && c.claimName !== '')
      claims.push([c.headerName.toLowerCase(), c.claimName]);
    else s.add(idx(at(path, 'claimToHeaders'), i), XDS_PROBLEM.INVALID, `must be a JwtClaimToHeader with headerName and claimName, got ${show(c)}`);
  });
  const skew = raw.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  if (typeof skew !== 'number' || skew < 0 || skew > 3600) s.add(at(path, 'clockSkewSeconds'), XDS_PROBLEM.INVALID, `must be seconds from 0 to 3600, got ${show(skew)}`);
  if (!keys || typeof raw.issuer !== 'string' || typeof skew !== 'number') return undefined;
  // Envoy's defaults when no location is given: the Authorization header (and access_token, which Trellis does not read).
  const fromHeaders = headers.length === 0 && params.length === 0 ? DEFAULT_HEADERS : headers;
  return {
    name,
    issuer: raw.issuer,
    audiences,
    keys: keys.keys,
    keyCount: keys.count,
    fromHeaders,
    fromParams: params,
    claimToHeaders: claims,
    forward: raw.forward === true,
    clockSkewSeconds: skew,
  };
}

/** The one rule Trellis sends: every path (`prefix: /`) requires one provider, or any of them (and allow_missing). */
function decodeRules(s: ProblemSink, config: Obj, path: string, names: ReadonlySet<string>): { required: string[]; allowMissing: boolean } | undefined {
  const rules: unknown[] = Array.isArray(config.rules) ? config.rules : [];
  const rpath = at(path, 'rules');
  const rule = rules[0];
  if (rules.length !== 1 || !isObj(rule) || !isObj(rule.match) || rule.match.prefix !== '/' || Object.keys(rule.match).length !== 1)
    return s.add(rpath, XDS_PROBLEM.UNSUPPORTED, `must be one rule matching every path ({ match: { prefix: "/" } }), got ${show(config.rules)}`);
  const req = rule.requires;
  const reqPath = at(idx(rpath, 0), 'requires');
  const one = (r: unknown, p: string): { provider?: string; allowMissing?: true } | undefined => {
    if (isObj(r) && typeof r.providerName === 'string' && Object.keys(r).length === 1) {
      if (!names.has(r.providerName)) return s.add(at(p, 'providerName'), XDS_PROBLEM.INVALID, `names no provider: ${show(r.providerName)}`);
      return { provider: r.providerName };
    }
    if (isObj(r) && r.allowMissing !== undefined && Object.keys(r).length === 1) return { allowMissing: true };
    return s.add(p, XDS_PROBLEM.UNSUPPORTED, `only providerName and allowMissing requirements are supported by Trellis proxy, got ${show(r)}`);
  };
  const parts = isObj(req) && isObj(req.requiresAny) ? (Array.isArray(req.requiresAny.requirements) ? req.requiresAny.requirements : []) : [req];
  const decoded = parts.map((r, i) => one(r, isObj(req) && isObj(req.requiresAny) ? idx(at(reqPath, 'requiresAny.requirements'), i) : reqPath));
  if (!decoded.every((x) => x !== undefined)) return undefined;
  return { required: decoded.flatMap((x) => (x.provider ? [x.provider] : [])), allowMissing: decoded.some((x) => x.allowMissing) };
}

/** The JwtConfig of one JWT filter's typed config; undefined (with problems) when not usable. */
export function decodeJwtAuthn(s: ProblemSink, config: Obj, path: string, payloadKey: string): JwtConfig | undefined {
  const extra = Object.keys(config).filter((k) => k !== '@type' && k !== 'providers' && k !== 'rules');
  if (extra.length > 0) s.add(at(path, extra[0]!), XDS_PROBLEM.UNSUPPORTED, 'not supported by Trellis proxy (supported: providers, rules)');
  const raw = isObj(config.providers) ? config.providers : {};
  const names = Object.keys(raw).sort();
  if (names.length === 0) return s.add(at(path, 'providers'), XDS_PROBLEM.REQUIRED, 'required: at least one provider');
  const providers = names.map((n) => decodeProvider(s, n, raw[n], `${path}.providers[${JSON.stringify(n)}]`, payloadKey));
  const rules = decodeRules(s, config, path, new Set(names));
  if (!rules || !providers.every((p) => p !== undefined)) return undefined;
  const decoded = providers.filter((p) => rules.required.includes(p.name));
  const claimHeaders = new Set(decoded.flatMap((p) => p.claimToHeaders.map(([h]) => h)));
  // Whichever provider verifies a token, no client-set claim header and (unless it forwards) no token header reaches the app.
  const tokenHeaders = decoded.flatMap((p) => p.fromHeaders.map((h) => h.name));
  const used = decoded.map((p) => ({ ...p, removedHeaders: new Set([...claimHeaders, ...(p.forward ? [] : tokenHeaders)]) }));
  const { '@type': _type, ...wire } = config;
  return { providers: used, allowMissing: rules.allowMissing, claimHeaders, source: JSON.stringify(wire) };
}
