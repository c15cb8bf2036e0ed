// The state-of-the-world protocol of one stream, without gRPC: versions, nonces, ACK, NACK.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Snapshot } from '../translator/types.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../xds/type-urls.js';
import type { DiscoveryRequest, OutgoingResponse } from './ads-service.js';
import { AdsSession } from './ads-session.js';

const short = (t: string) => ({ [CLUSTER_TYPE]: 'CDS', [ENDPOINT_TYPE]: 'EDS', [LISTENER_TYPE]: 'LDS', [ROUTE_TYPE]: 'RDS' })[t] ?? t;

/** A snapshot whose resources are `{ name }` objects and whose versions are given per type. */
function snap(v: { cds?: string; eds?: string; lds?: string; rds?: string }, names: { clusters?: string[]; endpoints?: string[] } = {}): Snapshot {
  const map = (ns: string[]) => new Map(ns.map((n) => [n, { name: n }])) as Map<string, never>;
  return {
    clusters: map(names.clusters ?? ['c1', 'c2']),
    endpoints: map(names.endpoints ?? ['c1', 'c2']),
    listeners: map(['l1']),
    routes: map(['r1', 'r2']),
    versions: { [CLUSTER_TYPE]: v.cds ?? 'c-a', [ENDPOINT_TYPE]: v.eds ?? 'e-a', [LISTENER_TYPE]: v.lds ?? 'l-a', [ROUTE_TYPE]: v.rds ?? 'r-a' },
    warnings: [],
  };
}

function setup() {
  const sent: OutgoingResponse[] = [];
  const events: string[] = [];
  const session = new AdsSession(
    (r) => {
      sent.push(r);
      return true;
    },
    {
      onAck: (t, v) => events.push(`ack ${short(t)} ${v}`),
      onNack: (t, v, n, m) => events.push(`nack ${short(t)} ${v} nonce=${n}: ${m}`),
      onUnknownType: (t) => events.push(`unknown ${t}`),
    },
  );
  const sentSummary = () => sent.map((r) => `${short(r.typeUrl)} ${r.versionInfo} #${r.nonce} [${r.resources.map((x) => (x as { name: string }).name).join(',')}]`);
  return { session, sent, events, sentSummary };
}

const req = (typeUrl: string, over: Partial<DiscoveryRequest> = {}): DiscoveryRequest => ({ typeUrl, ...over });

test('the first CDS request with no names gets every cluster', () => {
  const { session, sentSummary } = setup();
  session.handleRequest(req(CLUSTER_TYPE), snap({}));
  assert.deepEqual(sentSummary(), ['CDS c-a #1 [c1,c2]']);
});

test('an ACK records the version and sends nothing more', () => {
  const { session, sentSummary, events } = setup();
  session.handleRequest(req(CLUSTER_TYPE), snap({}));
  session.handleRequest(req(CLUSTER_TYPE, { versionInfo: 'c-a', responseNonce: '1' }), snap({}));
  assert.deepEqual(events, ['ack CDS c-a']);
  assert.equal(sentSummary().length, 1);
});

test('a NACK is reported with the refused version and reason, and that version is not sent again', () => {
  const { session, sentSummary, events } = setup();
  session.handleRequest(req(CLUSTER_TYPE), snap({ cds: 'good' }));
  session.handleRequest(req(CLUSTER_TYPE, { versionInfo: 'good', responseNonce: '1' }), snap({ cds: 'good' }));
  session.setSnapshot(snap({ cds: 'bad' }));
  session.handleRequest(req(CLUSTER_TYPE, { versionInfo: 'good', responseNonce: '2', errorDetail: { code: 3, message: 'cluster c1: no endpoints' } }), snap({ cds: 'bad' }));
  session.setSnapshot(snap({ cds: 'bad' }));
  assert.deepEqual(events, ['ack CDS good', 'nack CDS bad nonce=2: cluster c1: no endpoints']);
  assert.deepEqual(sentSummary(), ['CDS good #1 [c1,c2]', 'CDS bad #2 [c1,c2]']);
  session.setSnapshot(snap({ cds: 'fixed' }));
  assert.equal(sentSummary().at(-1), 'CDS fixed #3 [c1,c2]');
});

test('a request with a stale nonce is ignored', () => {
  const { session, sentSummary, events } = setup();
  session.handleRequest(req(CLUSTER_TYPE), snap({ cds: 'v1' }));
  session.handleRequest(req(CLUSTER_TYPE, { versionInfo: 'v1', responseNonce: '1' }), snap({ cds: 'v1' }));
  session.setSnapshot(snap({ cds: 'v2' }));
  session.handleRequest(req(CLUSTER_TYPE, { versionInfo: 'v1', responseNonce: '1', errorDetail: { message: 'old' } }), snap({ cds: 'v2' }));
  assert.deepEqual(events, ['ack CDS v1']);
  assert.equal(sentSummary().length, 2);
});

test('EDS sends only the requested names, and again when the names change', () => {
  const { session, sentSummary } = setup();
  session.handleRequest(req(ENDPOINT_TYPE, { resourceNames: ['c2', 'missing'] }), snap({}));
  session.handleRequest(req(ENDPOINT_TYPE, { resourceNames: ['c2', 'missing'], versionInfo: 'e-a', responseNonce: '1' }), snap({}));
  session.handleRequest(req(ENDPOINT_TYPE, { resourceNames: ['c1', 'c2'], versionInfo: 'e-a', responseNonce: '1' }), snap({}));
  assert.deepEqual(sentSummary(), ['EDS e-a #1 [c2]', 'EDS e-a #2 [c1,c2]']);
});

test('an RDS or EDS request with no names subscribes to nothing; "*" subscribes to everything', () => {
  const { session, sentSummary } = setup();
  session.handleRequest(req(ROUTE_TYPE), snap({}));
  assert.deepEqual(sentSummary(), []);
  session.handleRequest(req(ROUTE_TYPE, { resourceNames: ['*'] }), snap({}));
  assert.deepEqual(sentSummary(), ['RDS r-a #1 [r1,r2]']);
});

test('a new snapshot sends only the changed types, clusters first, then endpoints, listeners, routes', () => {
  const { session, sentSummary } = setup();
  const s0 = snap({});
  session.handleRequest(req(ROUTE_TYPE, { resourceNames: ['r1'] }), s0);
  session.handleRequest(req(LISTENER_TYPE), s0);
  session.handleRequest(req(ENDPOINT_TYPE, { resourceNames: ['c1'] }), s0);
  session.handleRequest(req(CLUSTER_TYPE), s0);
  for (const [t, v, n] of [
    [ROUTE_TYPE, 'r-a', '1'],
    [LISTENER_TYPE, 'l-a', '2'],
    [ENDPOINT_TYPE, 'e-a', '3'],
    [CLUSTER_TYPE, 'c-a', '4'],
  ] as const) {
    session.handleRequest(req(t, { versionInfo: v, responseNonce: n, resourceNames: t === ROUTE_TYPE ? ['r1'] : t === ENDPOINT_TYPE ? ['c1'] : [] }), s0);
  }
  const s1 = snap({ rds: 'r-b', lds: 'l-b', cds: 'c-b' });
  session.setSnapshot(s1);
  assert.deepEqual(sentSummary().slice(4), ['CDS c-b #5 [c1,c2]'], 'listeners and routes wait for the clusters they may name');
  session.handleRequest(req(CLUSTER_TYPE, { versionInfo: 'c-b', responseNonce: '5' }), s1);
  assert.deepEqual(sentSummary().slice(4), ['CDS c-b #5 [c1,c2]', 'LDS l-b #6 [l1]', 'RDS r-b #7 [r1]']);
});

test('listeners are not sent while a CDS response is unanswered, and one refused for a cluster it named too early is offered again', () => {
  const { session, sentSummary, events } = setup();
  const s0 = snap({});
  session.handleRequest(req(CLUSTER_TYPE), s0);
  session.handleRequest(req(LISTENER_TYPE), s0);
  assert.deepEqual(sentSummary(), ['CDS c-a #1 [c1,c2]'], 'the first listeners wait for the first clusters');
  session.handleRequest(req(CLUSTER_TYPE, { versionInfo: 'c-a', responseNonce: '1' }), s0);
  assert.deepEqual(sentSummary(), ['CDS c-a #1 [c1,c2]', 'LDS l-a #2 [l1]']);
  session.handleRequest(req(LISTENER_TYPE, { versionInfo: 'l-a', responseNonce: '2' }), s0);
  // A proxy refused listeners (say, a cluster it had not accepted yet); once new clusters are accepted, they are offered again.
  const s1 = snap({ lds: 'l-b' });
  session.setSnapshot(s1);
  session.handleRequest(req(LISTENER_TYPE, { versionInfo: 'l-a', responseNonce: '3', errorDetail: { message: 'cluster "x" does not exist' } }), s1);
  session.setSnapshot(s1);
  assert.equal(sentSummary().length, 3, 'a refused version is not sent again while nothing changed');
  const s2 = snap({ lds: 'l-b', cds: 'c-b' });
  session.setSnapshot(s2);
  session.handleRequest(req(CLUSTER_TYPE, { versionInfo: 'c-b', responseNonce: '4' }), s2);
  assert.deepEqual(sentSummary().slice(3), ['CDS c-b #4 [c1,c2]', 'LDS l-b #5 [l1]']);
  assert.deepEqual(events, ['ack CDS c-a', 'ack LDS l-a', 'nack LDS l-b nonce=3: cluster "x" does not exist', 'ack CDS c-b']);
});

test('a proxy that asks for listeners before clusters (proxyless gRPC) gets them at once', () => {
  const { session, sentSummary } = setup();
  session.handleRequest(req(LISTENER_TYPE), snap({}));
  assert.deepEqual(sentSummary(), ['LDS l-a #1 [l1]']);
});

test('an update while a response is outstanding waits for its ACK', () => {
  const { session, sentSummary } = setup();
  session.handleRequest(req(CLUSTER_TYPE), snap({ cds: 'v1' }));
  session.setSnapshot(snap({ cds: 'v2' }));
  assert.equal(sentSummary().length, 1);
  session.handleRequest(req(CLUSTER_TYPE, { versionInfo: 'v1', responseNonce: '1' }), snap({ cds: 'v2' }));
  assert.deepEqual(sentSummary(), ['CDS v1 #1 [c1,c2]', 'CDS v2 #2 [c1,c2]']);
});

test('a request for a type Trellis does not serve is reported and ignored', () => {
  const { session, sentSummary, events } = setup();
  session.handleRequest(req('type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig'), snap({}));
  assert.deepEqual(events, ['unknown type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig']);
  assert.deepEqual(sentSummary(), []);
});

test('a reconnecting proxy (version but no nonce) gets a response at once', () => {
  const { session, sentSummary, events } = setup();
  session.handleRequest(req(LISTENER_TYPE, { versionInfo: 'l-a' }), snap({}));
  assert.deepEqual(sentSummary(), ['LDS l-a #1 [l1]']);
  assert.deepEqual(events, []);
});

test('asksFor: a type is asked for once requested by name or as a wildcard, and no longer once every name is dropped', () => {
  const { session } = setup();
  const s = snap({});
  assert.equal(session.asksFor(LISTENER_TYPE), false);
  session.handleRequest({ typeUrl: LISTENER_TYPE, resourceNames: ['l1'] }, s);
  assert.equal(session.asksFor(LISTENER_TYPE), true);
  assert.equal(session.asksFor(ROUTE_TYPE), false);
  session.handleRequest({ typeUrl: CLUSTER_TYPE }, s);
  assert.equal(session.asksFor(CLUSTER_TYPE), true, 'an empty first CDS request is the wildcard');
  session.handleRequest({ typeUrl: ENDPOINT_TYPE, resourceNames: ['c1'] }, s);
  session.handleRequest({ typeUrl: ENDPOINT_TYPE, resourceNames: [] }, s);
  assert.equal(session.asksFor(ENDPOINT_TYPE), false, 'an empty EDS request unsubscribes');
});
