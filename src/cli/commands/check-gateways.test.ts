import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gatewayLines, type WithStatus } from './check-gateways.js';

const gw = (name: string, programmed?: [string, string]): WithStatus => ({
  kind: 'Gateway',
  metadata: { name, namespace: 'web' },
  ...(programmed ? { status: { conditions: [{ type: 'Programmed', status: programmed[0], reason: programmed[1], message: 'm' }] } } : {}),
});
const route = (name: string, conditions: [string, string, string][]): WithStatus => ({
  kind: 'HTTPRoute',
  metadata: { name, namespace: 'web' },
  status: { parents: [{ parentRef: { name: 'edge', sectionName: 'https' }, conditions: conditions.map(([type, status, reason]) => ({ type, status, reason, message: 'why' })) }] },
});

test('no Gateways and no routes on one: no lines', () => {
  assert.deepEqual(gatewayLines([], [{ kind: 'HTTPRoute', metadata: { name: 'mesh', namespace: 'web' } }]), []);
});

test('a Gateway not Programmed and a route not Accepted fail with their reasons; another controller’s Gateway is left out', () => {
  const lines = gatewayLines(
    [gw('edge', ['False', 'NoResources']), gw('theirs'), gw('ok', ['True', 'Programmed'])],
    [
      route('shop', [
        ['Accepted', 'False', 'NoMatchingListenerHostname'],
        ['ResolvedRefs', 'True', 'ResolvedRefs'],
      ]),
    ],
  );
  assert.deepEqual(lines, [
    { verdict: 'FAIL', check: 'gateways programmed', detail: 'web/edge NoResources: m' },
    { verdict: 'FAIL', check: 'routes accepted by their Gateways', detail: 'HTTPRoute web/shop on Gateway web/edge.https: Accepted NoMatchingListenerHostname: why' },
  ]);
});

test('everything programmed and accepted is ok', () => {
  const lines = gatewayLines(
    [gw('edge', ['True', 'Programmed'])],
    [
      route('shop', [
        ['Accepted', 'True', 'Accepted'],
        ['ResolvedRefs', 'True', 'ResolvedRefs'],
      ]),
    ],
  );
  assert.deepEqual(
    lines.map((l) => l.verdict),
    ['ok', 'ok'],
  );
});
