import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseResource } from './parse.js';
import { assertOk, assertProblem, assertRoundTrip } from './problem-assert.js';
import type { Resource } from './resource.js';

const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a' }, spec: { selector: { app: 'a' }, ports: [{ port: 80 }] } };
const route = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r' }, spec: { parentRefs: [{ name: 'a' }] } };
const mesh = { apiVersion: 'trellis.dev/v1alpha1', kind: 'MeshConfig', metadata: { name: 'default' } };

for (const raw of [service, route, mesh]) {
  test(`dispatches kind ${raw.kind} to its parser, round-trippable`, () => {
    const r: Resource = assertOk(parseResource(raw));
    assert.equal(r.kind, raw.kind);
    assertRoundTrip(parseResource, r);
  });
}

test('parsing canonical output again changes nothing (defaults are idempotent)', () => {
  const once = assertOk(parseResource(route));
  assert.deepEqual(assertOk(parseResource(once)), once);
});

const invalid: [string, unknown, string, string][] = [
  [
    'an unknown kind, listing the known ones',
    { ...service, kind: 'Deployment' },
    'kind',
    'unknown kind "Deployment"; known kinds: Service, HTTPRoute, MeshConfig, AuthorizationPolicy',
  ],
  ['a kind in the wrong case, suggesting the right one', { ...service, kind: 'service' }, 'kind', 'did you mean "Service"?'],
  [
    'a missing kind',
    { apiVersion: 'v1' },
    'kind',
    'required (one of Service, HTTPRoute, MeshConfig, AuthorizationPolicy, TrafficPolicy, GRPCRoute, TCPRoute, RequestAuthentication, ExternalService, GatewayClass, Gateway, Secret)',
  ],
  [
    'a kind that is not a string',
    { kind: 3 },
    'kind',
    'must be a string, one of Service, HTTPRoute, MeshConfig, AuthorizationPolicy, TrafficPolicy, GRPCRoute, TCPRoute, RequestAuthentication, ExternalService, GatewayClass, Gateway, Secret, got 3',
  ],
  ['a document that is a list', [service], '', 'must be a map with apiVersion, kind, metadata and spec, got a list'],
  ['a document that is a string', 'Service', '', 'got "Service"'],
  ['a kind inherited from Object.prototype', { kind: 'toString' }, 'kind', 'unknown kind "toString"'],
];
for (const [name, raw, path, fragment] of invalid) {
  test(`refuses ${name}`, () => assertProblem(parseResource(raw), path, fragment));
}

test('reports problems in metadata and spec of one document together', () => {
  const r = parseResource({ ...service, metadata: { name: 'A' }, spec: { selector: {}, ports: [{ port: 0 }] } });
  assertProblem(r, 'metadata.name', 'DNS-1123');
  assertProblem(r, 'spec.selector', 'at least one label');
  assertProblem(r, 'spec.ports[0].port', 'must be >= 1, got 0');
});
