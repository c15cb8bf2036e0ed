// Server listeners of proxyless gRPC nodes, checked by what gRPC itself does with them: each
// Listener is encoded as the xDS server sends it, then validated by grpc-js-xds 1.14's own
// ListenerResourceType (what it NACKs), and its RBAC filters evaluated by grpc-js-xds's own
// RBAC engine (what a server admits).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import type { AuthorizationPolicy, AuthorizationRule } from '../../api/resource.js';
import type { Listener } from '../../xds/envoy-types.js';
import { encodeMessage } from '../../xds/protos.js';
import { LISTENER, LISTENER_TYPE } from '../../xds/type-urls.js';
import { checkSnapshot } from './consistency.js';
import { grpcServerListener, parseListeningAddress } from './proxyless-server-listeners.js';
import { MTLS_MODE_ANNOTATION } from './security.js';
import { input, proxy, service, workload } from './test-fixtures.js';
import { translate } from './translate.js';
import type { TranslatorInput } from './types.js';

// grpc-js-xds 1.14 registers its RBAC filter only with this set when it loads; an application
// serving with Trellis policies runs with it too (without it, gRPC NACKs a listener with RBAC).
process.env.GRPC_XDS_EXPERIMENTAL_RBAC = 'true';
const require = createRequire(import.meta.url);
const grpcXds = require('@grpc/grpc-js-xds');
grpcXds.register();
const { ListenerResourceType } = require('@grpc/grpc-js-xds/build/src/xds-resource-type/listener-resource-type.js');
const { decodeSingleResource, HTTP_CONNECTION_MANGER_TYPE_URL } = require('@grpc/grpc-js-xds/build/src/resources.js');
const { parseTopLevelFilterConfig } = require('@grpc/grpc-js-xds/build/src/http-filter.js');
const { Metadata } = require('@grpc/grpc-js');

const TD = 'example.org';
const NAME = 'trellis/grpc/server?listening_address=0.0.0.0:50051';
const node = proxy('greeter-1', 'greeter', { kind: 'grpc', inbound: [{ port: 50051, appPort: 50051 }], adminPort: undefined });
const greeter = service('greeter', { ports: [{ port: 50051, appProtocol: 'grpc' }] });
const secure = (i: TranslatorInput): TranslatorInput => ({ ...i, security: { trustDomain: TD } });

/** The server listener and the warnings of translating it. */
function serverListener(i: TranslatorInput, name = NAME, n = node) {
  const warnings = new Set<string>();
  return { listener: grpcServerListener(i, n, name, warnings), warnings: [...warnings] };
}

/** What grpc-js-xds makes of the encoded Listener: its decoded form, or its NACK message. */
function grpcDecode(l: Listener): { value?: any; error?: string } {
  const context = { bootstrap: { certificateProviders: { trellis: { pluginName: 'file_watcher', config: {} } } } };
  return ListenerResourceType.get().decode(context, { type_url: LISTENER_TYPE, value: Buffer.from(encodeMessage(LISTENER, l)) });
}

/** The decoded HttpConnectionManager of the listener's only filter chain. */
function grpcHcm(decoded: any): any {
  assert.equal(decoded.filter_chains.length, 1);
  return decodeSingleResource(HTTP_CONNECTION_MANGER_TYPE_URL, decoded.filter_chains[0].filters[0].typed_config.value);
}

/** True if the server admits a call to `path` from `peer` (a SPIFFE ID, or undefined for plaintext), as gRPC's RBAC filters in order decide it. */
function grpcAdmits(decoded: any, peer: string | undefined, path: string, headers: Record<string, string> = {}): boolean {
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(headers)) metadata.set(k, v);
  // What grpc-js's RBAC filter adds to a call's metadata before it evaluates it.
  metadata.set(':method', 'POST');
  metadata.set(':authority', 'greeter.default:50051');
  metadata.set(':path', path);
  const info = {
    destinationIp: '10.0.0.1',
    destinationPort: 50051,
    sourceIp: '10.0.0.2',
    headers: metadata,
    tls: peer !== undefined,
    peerCertificate: peer === undefined ? null : { subjectaltname: `URI:${peer}`, subject: {} },
    urlPath: path,
  };
  const filters = grpcHcm(decoded).http_filters.slice(0, -1);
  return filters.every((f: any) => parseTopLevelFilterConfig(f.typed_config, false).config.apply(info));
}

function policy(name: string, action: 'ALLOW' | 'DENY', rules: AuthorizationRule[], targetRef?: string): AuthorizationPolicy {
  return {
    apiVersion: 'trellis.dev/v1alpha1',
    kind: 'AuthorizationPolicy',
    metadata: { name, namespace: 'default' },
    spec: { ...(targetRef ? { targetRef: { kind: 'Service' as const, name: targetRef } } : {}), action, rules },
  };
}

const id = (sa: string) => `spiffe://${TD}/ns/default/sa/${sa}`;

test('STRICT: the listener at the bound address, mTLS from the certificate provider, every call served here, router last; gRPC accepts it', () => {
  const { listener, warnings } = serverListener(secure(input({ services: [greeter] })));
  assert.deepEqual(warnings, []);
  assert.equal(listener!.name, NAME);
  const { value, error } = grpcDecode(listener!);
  assert.equal(error, undefined);
  assert.deepEqual(value.address.socket_address.address, '0.0.0.0');
  assert.equal(value.address.socket_address.port_value, 50051);
  const chain = value.filter_chains[0];
  assert.equal(chain.filter_chain_match, null, 'gRPC serves a chain without a match on every connection');
  const tls = decodeSingleResource('type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext', chain.transport_socket.typed_config.value);
  assert.equal(tls.require_client_certificate.value, true);
  assert.equal(tls.common_tls_context.tls_certificate_provider_instance.instance_name, 'trellis');
  assert.equal(tls.common_tls_context.validation_context.ca_certificate_provider_instance.instance_name, 'trellis');
  const hcm = grpcHcm(value);
  assert.equal(hcm.route_specifier, 'route_config');
  assert.deepEqual(
    hcm.route_config.virtual_hosts.map((vh: any) => ({ domains: vh.domains, actions: vh.routes.map((r: any) => r.action) })),
    [{ domains: ['*'], actions: ['non_forwarding_action'] }],
  );
  assert.deepEqual(
    hcm.http_filters.map((f: any) => f.typed_config.type_url),
    ['type.googleapis.com/envoy.extensions.filters.http.router.v3.Router'],
    'no policy applies: no RBAC filter',
  );
  const alone = (l: Listener) => checkSnapshot({ listeners: new Map([[l.name, l]]), routes: new Map(), clusters: new Map(), endpoints: new Map() });
  assert.deepEqual(alone(listener!), [], 'an inline route table that forwards nothing needs no RDS table nor cluster');
  const ours = listener!.filterChains[0]!.filters[0]!.typedConfig as any;
  const forwarding = { ...ours.routeConfig, virtualHosts: [{ name: 'inbound', domains: ['*'], routes: [{ name: 'r', match: { prefix: '' }, route: { cluster: 'nope' } }] }] };
  const broken = { ...listener!, filterChains: [{ filters: [{ ...listener!.filterChains[0]!.filters[0]!, typedConfig: { ...ours, routeConfig: forwarding } }] }] } as Listener;
  assert.deepEqual(alone(broken), [`listener ${NAME} inline route table inbound|50051 virtual host inbound route r: cluster nope does not exist`]);
});

test('gRPC refuses a server listener naming a certificate provider its bootstrap lacks (the check above is real)', () => {
  const { listener } = serverListener(secure(input({ services: [greeter] })));
  const context = { bootstrap: { certificateProviders: {} } };
  const r = ListenerResourceType.get().decode(context, { type_url: LISTENER_TYPE, value: Buffer.from(encodeMessage(LISTENER, listener!)) });
  assert.match(r.error, /Unmatched .*tls_certificate_provider_instance.instance_name: trellis/);
});

test('PERMISSIVE (mesh-wide or by annotation) is served STRICT with a warning: gRPC matches filter chains on raw_buffer only', () => {
  const mesh = secure(input({ services: [greeter], meshConfig: { mtls: { mode: 'PERMISSIVE' } } }));
  const annotated = service('greeter', { ports: [{ port: 50051, appProtocol: 'grpc' }] });
  annotated.metadata.annotations = { [MTLS_MODE_ANNOTATION]: 'PERMISSIVE' };
  for (const i of [mesh, secure(input({ services: [annotated] }))]) {
    const { listener, warnings } = serverListener(i);
    assert.equal(listener!.filterChains.length, 1);
    assert.ok(listener!.filterChains[0]!.transportSocket, 'TLS required');
    assert.deepEqual(warnings, [
      `server listener ${NAME}: mTLS mode PERMISSIVE is served as STRICT: a gRPC server cannot take TLS and plaintext on one port, so callers without a mesh certificate are refused`,
    ]);
    assert.equal(grpcDecode(listener!).error, undefined);
  }
});

test('without a CA (no security) the server listener is plaintext', () => {
  const { listener, warnings } = serverListener(input({ services: [greeter] }));
  assert.deepEqual(warnings, []);
  assert.equal(listener!.filterChains[0]!.transportSocket, undefined);
  const { value, error } = grpcDecode(listener!);
  assert.equal(error, undefined);
  assert.equal(value.filter_chains[0].transport_socket, null);
});

test('a policy allowing one service account: the RBAC rules are the sidecar’s, and gRPC admits exactly that caller', () => {
  const allowWeb = policy('allow-web', 'ALLOW', [{ from: [{ serviceAccounts: ['web'] }] }], 'greeter');
  const i = secure({ ...input({ services: [greeter] }), authorizationPolicies: [allowWeb] });
  const { listener, warnings } = serverListener(i);
  assert.deepEqual(warnings, []);
  // The sidecar of the same workload (same Service, same port) gets the same rules.
  const sidecar = translate(i, proxy('greeter-2', 'greeter', { inbound: [{ port: 15006, appPort: 50051 }] })).listeners.get('inbound|15006')!;
  const hcmOf = (l: Listener) => l.filterChains[0]!.filters[0]!.typedConfig as any;
  const rbacOf = (l: Listener) =>
    hcmOf(l)
      .httpFilters.filter((f: any) => f.name.startsWith('envoy.filters.http.rbac'))
      .map((f: any) => f.typedConfig.rules);
  assert.deepEqual(rbacOf(listener!), rbacOf(sidecar));
  assert.deepEqual(Object.keys(rbacOf(listener!)[0].policies), ['default/allow-web/rules[0]']);
  const { value, error } = grpcDecode(listener!);
  assert.equal(error, undefined);
  assert.equal(grpcAdmits(value, id('web'), '/helloworld.Greeter/SayHello'), true);
  assert.equal(grpcAdmits(value, id('shop'), '/helloworld.Greeter/SayHello'), false);
  assert.equal(grpcAdmits(value, `spiffe://other.org/ns/default/sa/web`, '/helloworld.Greeter/SayHello'), false, 'another trust domain');
  assert.equal(grpcAdmits(value, undefined, '/helloworld.Greeter/SayHello'), false, 'a caller without a certificate');
});

test('mesh-wide deny by default: an empty ALLOW filter, which gRPC accepts and which admits nobody', () => {
  const i = secure(input({ services: [greeter], meshConfig: { authorization: { defaultAction: 'DENY' } } }));
  const { listener } = serverListener(i);
  const { value, error } = grpcDecode(listener!);
  assert.equal(error, undefined);
  assert.deepEqual(
    grpcHcm(value).http_filters.map((f: any) => f.name),
    ['envoy.filters.http.rbac.allow', 'envoy.filters.http.router'],
  );
  assert.equal(grpcAdmits(value, id('web'), '/helloworld.Greeter/SayHello'), false);
});

test('DENY before ALLOW, each filter with its own name (gRPC NACKs duplicates); paths decide as on the sidecar', () => {
  const deny = policy('no-admin', 'DENY', [{ to: [{ paths: [{ prefix: '/admin.' }] }] }]);
  const allow = policy('authenticated', 'ALLOW', [{ from: [{ authenticated: true }] }], 'greeter');
  const { listener } = serverListener(secure({ ...input({ services: [greeter] }), authorizationPolicies: [allow, deny] }));
  const { value, error } = grpcDecode(listener!);
  assert.equal(error, undefined);
  assert.deepEqual(
    grpcHcm(value).http_filters.map((f: any) => f.name),
    ['envoy.filters.http.rbac.deny', 'envoy.filters.http.rbac.allow', 'envoy.filters.http.router'],
  );
  assert.equal(grpcAdmits(value, id('web'), '/helloworld.Greeter/SayHello'), true);
  assert.equal(grpcAdmits(value, id('web'), '/admin.Admin/Reset'), false);
  assert.equal(grpcAdmits(value, undefined, '/helloworld.Greeter/SayHello'), false);
});

test('headers gRPC does not see as sent fail closed: an ALLOW on one never matches, a DENY matches without it; both warned', () => {
  const allow = policy('needs-te', 'ALLOW', [{ to: [{ headers: [{ name: 'TE', exact: 'trailers' }] }] }, { to: [{ headers: [{ name: 'x-tenant', exact: 'a' }] }] }]);
  const deny = policy('no-slow', 'DENY', [{ to: [{ paths: [{ exact: '/helloworld.Greeter/Slow' }], headers: [{ name: 'grpc-timeout', present: true }] }] }]);
  const i = secure({ ...input({ services: [greeter] }), authorizationPolicies: [allow, deny] });
  const { listener, warnings } = serverListener(i);
  const sidecar = translate(i, proxy('greeter-2', 'greeter', { inbound: [{ port: 15006, appPort: 50051 }] })).listeners.get('inbound|15006')!;
  const sidecarRules = JSON.stringify((sidecar.filterChains[0]!.filters[0]!.typedConfig as any).httpFilters);
  assert.ok(sidecarRules.includes('"name":"te"') && sidecarRules.includes('"name":"grpc-timeout"'), 'the sidecar, which sees them, keeps both conditions');
  assert.deepEqual(warnings.sort(), [
    `server listener ${NAME}: AuthorizationPolicy default/needs-te rules[0].to[0]: gRPC's RBAC does not see header te as the caller sent it; this ALLOW operation never matches here`,
    `server listener ${NAME}: AuthorizationPolicy default/no-slow rules[0].to[0]: gRPC's RBAC does not see header grpc-timeout as the caller sent it; this DENY operation matches without those conditions`,
  ]);
  const { value, error } = grpcDecode(listener!);
  assert.equal(error, undefined);
  assert.equal(grpcAdmits(value, id('web'), '/helloworld.Greeter/SayHello', { te: 'trailers' }), false, 'the te rule never allows');
  assert.equal(grpcAdmits(value, id('web'), '/helloworld.Greeter/SayHello', { 'x-tenant': 'a' }), true, 'a header gRPC sees still decides');
  assert.equal(grpcAdmits(value, id('web'), '/helloworld.Greeter/Slow', { 'x-tenant': 'a' }), false, 'denied on the path alone');
  assert.equal(grpcAdmits(value, id('web'), '/helloworld.Greeter/Slow', { 'x-tenant': 'a', 'grpc-timeout': '1S' }), false);
});

test('methods: gRPC sees every call as POST; a rule on other methods is warned of', () => {
  const allow = policy('posts', 'ALLOW', [{ to: [{ methods: ['POST'] }] }, { to: [{ methods: ['GET'] }] }]);
  const deny = policy('no-delete', 'DENY', [{ to: [{ methods: ['DELETE'] }] }]);
  const { listener, warnings } = serverListener(secure({ ...input({ services: [greeter] }), authorizationPolicies: [allow, deny] }));
  assert.deepEqual(warnings.sort(), [
    `server listener ${NAME}: AuthorizationPolicy default/no-delete rules[0].to[0]: gRPC's RBAC sees every call as POST (a gRPC server runs a call by its path whatever its method); this DENY operation denies nothing here`,
    `server listener ${NAME}: AuthorizationPolicy default/posts rules[1].to[0]: gRPC's RBAC sees every call as POST (a gRPC server runs a call by its path whatever its method); this ALLOW operation never matches here`,
  ]);
  assert.equal(grpcAdmits(grpcDecode(listener!).value, id('web'), '/helloworld.Greeter/SayHello'), true);
});

test('a port the node did not declare inbound: no listener, and a warning naming the declared ones', () => {
  const { listener, warnings } = serverListener(secure(input({ services: [greeter] })), 'trellis/grpc/server?listening_address=0.0.0.0:50052');
  assert.equal(listener, undefined);
  assert.deepEqual(warnings, ['server listener trellis/grpc/server?listening_address=0.0.0.0:50052: port 50052 is not an inbound port of this node (declared: 50051)']);
  const none = serverListener(input({}), NAME, { ...node, inbound: [] });
  assert.deepEqual(none.warnings, [`server listener ${NAME}: port 50051 is not an inbound port of this node (declared: none)`]);
});

test('a name that is not a server listener name, or whose address is not IP:port, gets no listener and a warning', () => {
  for (const [name, why] of [
    ['greeter.default:50051', 'not a server listener name (expected trellis/grpc/server?listening_address=%s, %s an IP:port)'],
    ['trellis/grpc/server?listening_address=localhost:50051', 'listening address "localhost:50051" is not IPv4:PORT or [IPv6]:PORT'],
    ['trellis/grpc/server?listening_address=::1:50051', 'listening address "::1:50051" is not IPv4:PORT or [IPv6]:PORT'],
    ['trellis/grpc/server?listening_address=[::]', 'listening address "[::]" is not IPv4:PORT or [IPv6]:PORT'],
    ['trellis/grpc/server?listening_address=0.0.0.0:0', 'listening address "0.0.0.0:0" is not IPv4:PORT or [IPv6]:PORT'],
  ] as const) {
    const { listener, warnings } = serverListener(input({ services: [greeter] }), name);
    assert.equal(listener, undefined, name);
    assert.deepEqual(warnings, [`server listener ${name}: ${why}`]);
  }
});

test('IPv6 and specific addresses: the socket address is the bound IP as gRPC compares it; an IP other workloads cannot reach is warned of', () => {
  assert.deepEqual(parseListeningAddress('[::]:50051'), { ip: '::', port: 50051 });
  assert.deepEqual(parseListeningAddress('[0:0::0]:1'), { ip: '0:0::0', port: 1 });
  const v6 = serverListener(input({ services: [greeter] }), 'trellis/grpc/server?listening_address=[::]:50051');
  assert.deepEqual(v6.warnings, []);
  assert.equal(grpcDecode(v6.listener!).value.address.socket_address.address, '::');
  const loopback = serverListener(input({ services: [greeter] }), 'trellis/grpc/server?listening_address=127.0.0.1:50051');
  assert.equal(loopback.listener!.address!.socketAddress.address, '127.0.0.1');
  assert.deepEqual(loopback.warnings, [
    'server listener trellis/grpc/server?listening_address=127.0.0.1:50051: the server listens on 127.0.0.1 only, while other workloads dial it at 10.0.0.1:50051',
  ]);
});

test('a Service declaring the port HTTP/1.1 is warned of; policies follow the Services the port serves', () => {
  const http1 = service('greeter', { ports: [{ port: 50051, appProtocol: 'http' }] });
  const other = service('other', { ports: [{ port: 9000, appProtocol: 'grpc' }], selector: { app: 'greeter' } });
  other.metadata.annotations = { 'trellis.io/service-accounts': 'greeter' };
  const denyOther = policy('deny-all-other', 'DENY', [{ from: [{ authenticated: true }] }], 'other');
  const twoPorts = { ...node, inbound: [...node.inbound, { port: 9000, appPort: 9000 }] };
  const i = secure({ ...input({ services: [http1, other], workloads: [workload('g', 'greeter')] }), authorizationPolicies: [denyOther] });
  const { listener, warnings } = serverListener(i, NAME, twoPorts);
  assert.deepEqual(warnings, [
    `server listener ${NAME}: Service default/greeter port 50051 declares appProtocol http (HTTP/1.1), which a gRPC server does not speak; declare grpc`,
  ]);
  const hcm = listener!.filterChains[0]!.filters[0]!.typedConfig as any;
  assert.deepEqual(
    hcm.httpFilters.map((f: any) => f.name),
    ['envoy.filters.http.router'],
    'a policy for another Service of the workload does not apply on this port',
  );
  const on9000 = serverListener(i, 'trellis/grpc/server?listening_address=0.0.0.0:9000', twoPorts).listener!;
  assert.equal(grpcAdmits(grpcDecode(on9000).value, id('web'), '/x.Y/Z'), false, 'it applies on the port of its Service');
});
