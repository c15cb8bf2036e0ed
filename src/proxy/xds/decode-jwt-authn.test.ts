// Decoding the JWT filter: the config the control plane sends (through the proxy's own protobuf
// subset) becomes providers with keys, locations, claims and the allow-missing rule; what the
// proxy would not enforce as written is refused with its path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeProxyMessage, encodeProxyMessage } from '../../xds/proxy-protos.js';
import { JWT_AUTHN, JWT_PAYLOAD_METADATA_KEY } from '../../xds/type-urls.js';
import { jwksOf, testKey } from '../testing/jwt-keys.js';
import { decodeJwtAuthn } from './decode-jwt-authn.js';
import { ProblemSink } from './decode-fields.js';
import { decodeRbac } from './decode-rbac.js';
import { authorize } from '../config/authz-config.js';

const P = 'default/users/jwtRules[0]';
const provider = (jwks: string, over: object = {}) => ({
  issuer: 'https://id.example.com',
  audiences: ['shop'],
  localJwks: { inlineString: jwks },
  fromHeaders: [{ name: 'Authorization', valuePrefix: 'Bearer ' }],
  claimToHeaders: [{ headerName: 'X-Group', claimName: 'group' }],
  payloadInMetadata: 'payload',
  clockSkewSeconds: 30,
  ...over,
});
const filterConfig = (providers: Record<string, object>, requirements: object[]) => ({
  providers,
  rules: [{ match: { prefix: '/' }, requires: { requiresAny: { requirements } } }],
});

/** Through the wire and back, as the proxy receives it. */
const wire = (o: object) => decodeProxyMessage(JWT_AUTHN, encodeProxyMessage(JWT_AUTHN, o));

function decode(o: object) {
  const s = new ProblemSink('listener inbound|15006');
  const config = decodeJwtAuthn(s, wire(o), 'httpFilters[0].typedConfig', JWT_PAYLOAD_METADATA_KEY);
  return { config, problems: s.problems.map((p) => `${p.path}: ${p.message}`) };
}

test('the control plane’s config decodes into providers, the allow-missing rule and the headers the app never gets from the client', async () => {
  const jwks = jwksOf(await testKey('ES256', 'k1'));
  const { config, problems } = decode(filterConfig({ [P]: provider(jwks) }, [{ providerName: P }, { allowMissing: {} }]));
  assert.deepEqual(problems, []);
  assert.equal(config!.allowMissing, true);
  const p = config!.providers[0]!;
  assert.equal(p.issuer, 'https://id.example.com');
  assert.deepEqual(p.audiences, ['shop']);
  assert.equal(p.keyCount, 1);
  assert.deepEqual(p.fromHeaders, [{ name: 'authorization', prefix: 'Bearer ' }]);
  assert.deepEqual(p.claimToHeaders, [['x-group', 'group']]);
  assert.equal(p.forward, false);
  assert.equal(p.clockSkewSeconds, 30);
  assert.deepEqual([...p.removedHeaders].sort(), ['authorization', 'x-group']);
  assert.deepEqual([...config!.claimHeaders], ['x-group']);
});

test('a forwarding provider keeps the token header; an empty key set is accepted (every token will fail)', () => {
  const { config, problems } = decode(filterConfig({ [P]: provider('{"keys":[]}', { forward: true, claimToHeaders: [] }) }, [{ providerName: P }, { allowMissing: {} }]));
  assert.deepEqual(problems, []);
  assert.equal(config!.providers[0]!.keyCount, 0);
  assert.deepEqual([...config!.providers[0]!.removedHeaders], []);
});

test('a rule requiring the provider alone refuses a missing token', async () => {
  const jwks = jwksOf(await testKey('RS256', 'r'));
  const { config } = decode({ providers: { [P]: provider(jwks) }, rules: [{ match: { prefix: '/' }, requires: { providerName: P } }] });
  assert.equal(config!.allowMissing, false);
});

test('what the proxy would not enforce as written is refused at its path', async () => {
  const jwks = jwksOf(await testKey('ES256', 'k1'));
  const req = [{ providerName: P }, { allowMissing: {} }];
  const cases: [object, string][] = [
    [
      filterConfig({ [P]: { ...provider(jwks), localJwks: undefined, remoteJwks: { httpUri: { uri: 'https://x', cluster: 'c', timeout: { seconds: 1 } } } } }, req),
      `providers["${P}"].remoteJwks: Trellis proxy takes keys only inline`,
    ],
    [filterConfig({ [P]: provider('{"keys": [') }, req), `providers["${P}"].localJwks.inlineString: must be a JWK Set in JSON`],
    [filterConfig({ [P]: provider(jwks, { payloadInMetadata: 'other' }) }, req), `providers["${P}"].payloadInMetadata: must be "payload"`],
    [filterConfig({ [P]: provider(jwks, { forwardPayloadHeader: 'x-payload' }) }, req), `providers["${P}"].forwardPayloadHeader: not supported by Trellis proxy`],
    [filterConfig({ [P]: provider(jwks) }, [{ providerName: 'nobody' }, { allowMissing: {} }]), 'rules[0].requires.requiresAny.requirements[0].providerName: names no provider'],
    [
      filterConfig({ [P]: provider(jwks) }, [{ providerName: P }, { allowMissingOrFailed: {} }]),
      'rules[0].requires.requiresAny.requirements[1]: only providerName and allowMissing',
    ],
    [{ providers: { [P]: provider(jwks) }, rules: [{ match: { path: '/x' }, requires: { providerName: P } }] }, 'rules: must be one rule matching every path'],
    [{ providers: {}, rules: [] }, 'providers: required'],
  ];
  for (const [config, expected] of cases) {
    const { problems } = decode(config);
    assert.ok(
      problems.some((p) => p.startsWith(`httpFilters[0].typedConfig.${expected}`)),
      `${expected} in ${JSON.stringify(problems)}`,
    );
  }
});

test('RBAC metadata principals on the JWT payload decode and decide on the verified token', () => {
  const meta = (path: string[], value: object) => ({ metadata: { filter: 'envoy.filters.http.jwt_authn', path: ['payload', ...path].map((key) => ({ key })), value } });
  const s = new ProblemSink('l');
  const rules = decodeRbac(
    s,
    {
      rules: {
        action: 'ALLOW',
        policies: {
          admins: {
            permissions: [{ any: true }],
            principals: [
              {
                andIds: {
                  ids: [
                    meta(['iss'], { stringMatch: { exact: 'https://id.example.com' } }),
                    meta(['sub'], { presentMatch: true }),
                    { orIds: { ids: [meta(['groups'], { stringMatch: { exact: 'admins' } }), meta(['groups'], { listMatch: { oneOf: { stringMatch: { exact: 'admins' } } } })] } },
                    { notId: meta(['realm', 'role'], { stringMatch: { suffix: 'guest' } }) },
                  ],
                },
              },
            ],
          },
        },
      },
    },
    'httpFilters[1].typedConfig',
  );
  assert.deepEqual(s.problems, []);
  const decide = (jwt?: Record<string, unknown>) => authorize([rules!], { peer: undefined, ...(jwt ? { jwt } : {}) }).allowed;
  assert.equal(decide({ iss: 'https://id.example.com', sub: 'a', groups: ['users', 'admins'] }), true);
  assert.equal(decide({ iss: 'https://id.example.com', sub: 'a', groups: 'admins', realm: { role: 'org-guest' } }), false);
  assert.equal(decide({ iss: 'https://id.example.com', sub: 'a', groups: ['users'] }), false);
  assert.equal(decide(), false, 'no token: no match');

  const bad = new ProblemSink('l');
  decodeRbac(bad, { rules: { policies: { p: { permissions: [{ any: true }], principals: [{ metadata: { filter: 'istio_authn', path: [{ key: 'x' }], value: {} } }] } } } }, 'f');
  assert.match(bad.problems[0]!.message, /only metadata of filter envoy.filters.http.jwt_authn/);
});
