// RequestAuthentications in the snapshot: the JWT filter before RBAC on inbound HTTP listeners
// (inline keys, token locations, claims to headers, a missing token allowed), keys from the
// control plane's cache or an empty set with a warning; authorization on request principals and
// claims as metadata matchers, split against the accepted issuers and failing closed where no
// JWT is seen (TCP, proxyless gRPC).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuthorizationPolicy, RequestAuthentication } from '../../api/resource.js';
import type { Listener } from '../../xds/envoy-types.js';
import { decodeMessage, encodeMessage } from '../../xds/protos.js';
import { FILTER_JWT_AUTHN, JWT_AUTHN, LISTENER } from '../../xds/type-urls.js';
import { rbacRules } from './authorization.js';
import { condition, requestPrincipal } from './jwt-principals.js';
import { input, proxy, service } from './test-fixtures.js';
import { translate } from './translate.js';
import type { TranslatorInput } from './types.js';

const JWKS = JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'BBBB', kid: 'k1' }] });
const ISS = 'https://id.example.com';

const ra = (name: string, spec: Partial<RequestAuthentication['spec']>): RequestAuthentication => ({
  apiVersion: 'trellis.dev/v1alpha1',
  kind: 'RequestAuthentication',
  metadata: { name, namespace: 'default' },
  spec: { jwtRules: [], ...spec },
});
const policy = (name: string, action: 'ALLOW' | 'DENY', rules: AuthorizationPolicy['spec']['rules']): AuthorizationPolicy => ({
  apiVersion: 'trellis.dev/v1alpha1',
  kind: 'AuthorizationPolicy',
  metadata: { name, namespace: 'default' },
  spec: { action, rules },
});

const node = proxy('web-1', 'web');
const httpFilters = (l: Listener) => (l.filterChains[0]!.filters[0]!.typedConfig as any).httpFilters as any[];
const base = (over: Partial<TranslatorInput> = {}): TranslatorInput => ({ ...input({ services: [service('web')] }), ...over });

test('the JWT filter goes first on the inbound HTTP listener: inline keys, locations, claims, allow_missing', () => {
  const users = ra('users', {
    targetRef: { kind: 'Service', name: 'web' },
    jwtRules: [{ issuer: ISS, audiences: ['shop'], jwks: JWKS, outputClaimToHeaders: [{ header: 'x-group', claim: 'group' }], forwardOriginalToken: false }],
  });
  const s = translate(base({ requestAuthentications: [users], authorizationPolicies: [policy('p', 'ALLOW', [{ from: [{ requestPrincipals: ['*'] }] }])] }), node);
  const filters = httpFilters(s.listeners.get('inbound|15006')!);
  assert.deepEqual(
    filters.map((f) => f.name),
    [FILTER_JWT_AUTHN, 'envoy.filters.http.rbac', 'envoy.filters.http.router'],
  );
  const cfg = filters[0].typedConfig;
  assert.deepEqual(cfg.providers['default/users/jwtRules[0]'], {
    issuer: ISS,
    audiences: ['shop'],
    localJwks: { inlineString: JWKS },
    forward: false,
    fromHeaders: [{ name: 'Authorization', valuePrefix: 'Bearer ' }],
    claimToHeaders: [{ headerName: 'x-group', claimName: 'group' }],
    payloadInMetadata: 'payload',
    clockSkewSeconds: 60,
  });
  assert.deepEqual(cfg.rules, [{ match: { prefix: '/' }, requires: { requiresAny: { requirements: [{ providerName: 'default/users/jwtRules[0]' }, { allowMissing: {} }] } } }]);
  assert.deepEqual(s.warnings, []);
  // Valid on the wire: the listener encodes and decodes with Envoy's JwtAuthentication.
  const wire = decodeMessage<any>(LISTENER, encodeMessage(LISTENER, s.listeners.get('inbound|15006')!));
  const typed = wire.filterChains[0].filters[0].typedConfig;
  assert.equal(typed['@type'].endsWith('HttpConnectionManager'), true);
  assert.equal(JSON.stringify(typed).includes(JWT_AUTHN), true);
});

test('a RequestAuthentication for another Service or a Gateway adds nothing to this sidecar', () => {
  for (const targetRef of [
    { kind: 'Service' as const, name: 'other' },
    { kind: 'Gateway' as const, name: 'edge' },
  ]) {
    const s = translate(base({ requestAuthentications: [ra('x', { targetRef, jwtRules: [{ issuer: ISS, jwks: JWKS, forwardOriginalToken: false }] })] }), node);
    assert.deepEqual(
      httpFilters(s.listeners.get('inbound|15006')!).map((f) => f.name),
      ['envoy.filters.http.router'],
    );
  }
});

test("keys from a URL: the control plane's latest, or an empty set and a warning when it never got them", () => {
  const uri = 'https://id.example.com/jwks.json';
  const users = ra('users', { jwtRules: [{ issuer: ISS, jwksUri: uri, forwardOriginalToken: true }] });
  const keysOf = (s: ReturnType<typeof translate>) => httpFilters(s.listeners.get('inbound|15006')!)[0].typedConfig.providers['default/users/jwtRules[0]'].localJwks.inlineString;

  const none = translate(base({ requestAuthentications: [users], jwks: new Map([[uri, { error: 'GET answered 503' }]]) }), node);
  assert.equal(keysOf(none), '{"keys":[]}');
  assert.deepEqual(none.warnings, [
    `RequestAuthentication default/users/jwtRules[0]: no keys yet from jwksUri ${uri} (GET answered 503); every token of issuer ${ISS} is refused with 401`,
  ]);

  const fetched = translate(base({ requestAuthentications: [users], jwks: new Map([[uri, { json: JWKS }]]) }), node);
  assert.equal(keysOf(fetched), JWKS);
  assert.deepEqual(fetched.warnings, []);
  const stale = translate(base({ requestAuthentications: [users], jwks: new Map([[uri, { json: JWKS, error: 'timeout' }]]) }), node);
  assert.equal(keysOf(stale), JWKS);
  assert.match(stale.warnings[0]!, /refreshing the keys from jwksUri .* failed \(timeout\); the last keys fetched are used/);
});

// A small evaluator of the metadata principals above, to check what they mean on a payload.
function holds(p: any, payload: Record<string, unknown> | undefined): boolean {
  if (p.any) return true;
  if (p.andIds) return p.andIds.ids.every((x: any) => holds(x, payload));
  if (p.orIds) return p.orIds.ids.some((x: any) => holds(x, payload));
  if (p.notId) return !holds(p.notId, payload);
  const m = p.metadata;
  assert.equal(m.filter, FILTER_JWT_AUTHN);
  assert.equal(m.path[0].key, 'payload');
  let v: any = payload;
  for (const { key } of m.path.slice(1)) v = v?.[key];
  if (v === undefined) return false;
  const str = (s: any, x: unknown) => typeof x === 'string' && ('exact' in s ? x === s.exact : 'prefix' in s ? x.startsWith(s.prefix) : x.endsWith(s.suffix));
  if (m.value.presentMatch) return true;
  if (m.value.stringMatch) return str(m.value.stringMatch, v);
  return Array.isArray(v) && v.some((x) => str(m.value.listMatch.oneOf.stringMatch, x));
}

test('a request principal pattern matches exactly the tokens whose iss/sub it names, split against the issuers', () => {
  const issuers = ['https://id.example.com', 'https://id.example.com/tenant', 'plain'];
  const tokens = [
    { iss: 'https://id.example.com', sub: 'alice' },
    { iss: 'https://id.example.com', sub: 'tenant/bob' },
    { iss: 'https://id.example.com/tenant', sub: 'bob' },
    { iss: 'plain', sub: 'x@example.com' },
    { iss: 'plain', sub: 'carol' },
  ];
  const patterns = [
    '*',
    'https://id.example.com/alice',
    'https://id.example.com/tenant/bob',
    'https://id.example.com/*',
    'https://id.example.com/t*',
    'plain/*',
    '*@example.com',
    '*/bob',
    '*m/alice',
    'nobody/x',
    'https://*',
  ];
  const glob = (p: string, s: string) => (p === '*' ? true : p.endsWith('*') ? s.startsWith(p.slice(0, -1)) : p.startsWith('*') ? s.endsWith(p.slice(1)) : s === p);
  for (const p of patterns) {
    const m = requestPrincipal(p, issuers);
    for (const t of tokens) assert.equal(holds(m, t), glob(p, `${t.iss}/${t.sub}`), `${p} on ${t.iss}/${t.sub}`);
    assert.equal(holds(m, undefined), false, `${p} never matches without a token`);
  }
  assert.equal(holds(requestPrincipal('*', []), { iss: 'a', sub: 'b' }), false, 'no accepted issuer: nothing matches');
});

test('when conditions: claims as strings or lists, nested claims, notValues', () => {
  const group = condition({ key: 'request.auth.claims[groups]', values: ['admins', 'ops*'] }, [ISS]);
  assert.equal(holds(group, { groups: ['users', 'admins'] }), true);
  assert.equal(holds(group, { groups: 'ops-team' }), true);
  assert.equal(holds(group, { groups: ['users'] }), false);
  assert.equal(holds(group, {}), false);
  const nested = condition({ key: 'request.auth.claims[realm][role]', notValues: ['guest'] }, [ISS]);
  assert.equal(holds(nested, { realm: { role: 'admin' } }), true);
  assert.equal(holds(nested, { realm: { role: 'guest' } }), false);
  const aud = condition({ key: 'request.auth.audiences', values: ['shop'] }, [ISS]);
  assert.equal(holds(aud, { aud: ['shop', 'x'] }), true);
  assert.equal(holds(aud, { aud: 'shop' }), true);
  const principal = condition({ key: 'request.auth.principal', values: [`${ISS}/alice`] }, [ISS]);
  assert.equal(holds(principal, { iss: ISS, sub: 'alice' }), true);
  assert.equal(holds(principal, { iss: ISS, sub: 'bob' }), false);
});

test('JWT conditions fail closed where no JWT is seen: TCP and proxyless gRPC; ALLOW never matches, DENY goes without them', () => {
  const allow = policy('a', 'ALLOW', [{ from: [{ requestPrincipals: ['*'] }], when: [{ key: 'request.auth.claims[g]', values: ['x'] }] }]);
  const deny = policy('d', 'DENY', [{ from: [{ requestPrincipals: ['*'] }] }]);
  const mesh = base().meshConfig;
  const [d, a] = rbacRules([deny, allow], mesh, 'td', true);
  assert.deepEqual(a!.policies['default/a/rules[0]']!.principals, [{ andIds: { ids: [{ notId: { any: true } }, { notId: { any: true } }] } }]);
  assert.deepEqual(d!.policies['default/d/rules[0]']!.principals, [{ any: true }]);
  const grpc = rbacRules([allow], mesh, 'td', false, { unseenHeader: () => false, unseenJwt: true }, [ISS]);
  assert.equal(holds(grpc[0]!.policies['default/a/rules[0]']!.principals[0], { iss: ISS, sub: 's', g: 'x' }), false);
  // Where the JWT is seen, the same rule holds for a matching token only.
  const http = rbacRules([allow], mesh, 'td', false, undefined, [ISS]);
  const p = http[0]!.policies['default/a/rules[0]']!.principals[0];
  assert.equal(holds(p, { iss: ISS, sub: 's', g: 'x' }), true);
  assert.equal(holds(p, { iss: ISS, sub: 's', g: 'y' }), false);
  assert.equal(holds(p, undefined), false);
});

test('a proxyless gRPC server is warned of JWT rules and RequestAuthentications it cannot enforce', () => {
  const greeter = service('greeter', { ports: [{ port: 50051, appProtocol: 'grpc' }] });
  const grpcNode = proxy('greeter-1', 'greeter', { kind: 'grpc', inbound: [{ port: 50051, appPort: 50051 }], adminPort: undefined, listenerNames: [] } as never);
  const i = {
    ...input({ services: [greeter] }),
    authorizationPolicies: [policy('a', 'ALLOW', [{ from: [{ requestPrincipals: ['*'] }] }])],
    requestAuthentications: [ra('users', { jwtRules: [{ issuer: ISS, jwks: JWKS, forwardOriginalToken: false }] })],
  };
  const s = translate(i, { ...grpcNode, listenerNames: ['trellis/grpc/server?listening_address=0.0.0.0:50051'] });
  assert.ok(
    s.warnings.some((w) => /rules\[0\]: a proxyless gRPC server sees no end-user JWT .* this ALLOW rule never matches here/.test(w)),
    s.warnings.join('\n'),
  );
  assert.ok(s.warnings.some((w) => /RequestAuthentication default\/users is not enforced: a proxyless gRPC server verifies no JWT/.test(w)));
});

test('transparent mode: every HTTP chain of the inbound capture listener verifies JWTs first; opaque chains have no JWT filter', () => {
  const users = ra('users', { jwtRules: [{ issuer: ISS, jwks: JWKS, forwardOriginalToken: false }] });
  const i = { ...base({ requestAuthentications: [users] }), security: { trustDomain: 'example.org' } };
  const s = translate(i, proxy('web-1', 'web', { inbound: [{ port: 8080, appPort: 8080 }], capture: { inboundPort: 15006, outboundPort: 15001 } }));
  const chains = s.listeners.get('virtualInbound')!.filterChains.filter((c) => c.name?.startsWith('inbound|8080'));
  const firstFilter = (c: (typeof chains)[number]) => {
    const f = c.filters.at(-1)!;
    return f.name === 'envoy.filters.network.http_connection_manager' ? `http ${(f.typedConfig.httpFilters[0] as { name: string }).name}` : 'tcp';
  };
  assert.deepEqual(Object.fromEntries(chains.map((c) => [c.name, firstFilter(c)])), {
    'inbound|8080|mtls-http': `http ${FILTER_JWT_AUTHN}`,
    'inbound|8080|mtls': 'tcp',
    'inbound|8080|plaintext-refused': 'tcp',
  });
  for (const l of s.listeners.values()) assert.ok(encodeMessage(LISTENER, l).length > 0);
});
