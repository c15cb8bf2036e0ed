import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { ok } from '../common/result.js';
import { waitFor } from '../common/wait.js';
import { structToJson, jsonToStruct, type ProxyMetadata } from '../xds/node-metadata.js';
import { ADS_METHOD_PATH, LISTENER, LISTENER_TYPE, SECRET, SECRET_TYPE } from '../xds/type-urls.js';
import { deserializeResponse, serializeRequest, type DiscoveryRequest, type DiscoveryResponse } from '../proxy/xds/ads-service.js';
import { FakeAdsServer } from '../proxy/xds/fake-ads-server.js';
import type { DecodedSecret, SecretSink } from '../proxy/xds/sds.js';
import { AppXdsServer } from './app-xds-server.js';
import { AGENT_USER_AGENT, ControlPlaneStream } from './control-plane-stream.js';

const META: ProxyMetadata = {
  kind: 'grpc',
  service: 'payments',
  namespace: 'default',
  labels: {},
  address: '127.0.0.1',
  inbound: [{ port: 50051, appPort: 50051 }],
  upstreams: [],
};
const ID = 'grpc~127.0.0.1:50051~payments.default';
const isSds = (r: DiscoveryRequest) => r.typeUrl === SECRET_TYPE;
const isLds = (r: DiscoveryRequest) => r.typeUrl === LISTENER_TYPE;

class FakeIdentity implements SecretSink {
  readonly csr = '-----BEGIN CERTIFICATE REQUEST-----';
  onCsr: (csrPem: string) => void = () => {};
  applied: ReadonlyMap<string, DecodedSecret>[] = [];
  apply(secrets: ReadonlyMap<string, DecodedSecret>) {
    this.applied.push(secrets);
    return ok(undefined);
  }
  ready = () => this.applied.length > 0;
}

/** The app side: a plain grpc-js ADS stream on the agent's socket, as gRPC's xDS client opens it. */
class FakeApp {
  readonly responses: DiscoveryResponse[] = [];
  status: grpc.StatusObject | undefined;
  readonly call: grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>;
  constructor(readonly client: grpc.Client) {
    this.call = client.makeBidiStreamRequest(ADS_METHOD_PATH, serializeRequest, deserializeResponse);
    this.call.on('data', (r: DiscoveryResponse) => this.responses.push(r));
    this.call.on('error', () => {});
    this.call.on('status', (s: grpc.StatusObject) => (this.status = s));
  }
}

async function setup(t: TestContext) {
  const cp = new FakeAdsServer();
  await cp.start();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-relay-'));
  const identity = new FakeIdentity();
  const secretsSeen: number[] = [];
  const upstream = new ControlPlaneStream({
    server: `127.0.0.1:${cp.port}`,
    node: { id: ID, metadata: META },
    identity,
    onSecrets: async () => void secretsSeen.push(identity.applied.length),
    backoff: { initialMs: 20, maxMs: 50 },
    logger: pino({ level: 'silent' }),
  });
  const relay = new AppXdsServer({ socketPath: path.join(dir, 'xds.sock'), upstream, logger: pino({ level: 'silent' }) });
  await relay.listen();
  upstream.start();
  const clients: grpc.Client[] = [];
  const app = () => {
    const client = new grpc.Client(`unix:${path.join(dir, 'xds.sock')}`, grpc.credentials.createInsecure());
    clients.push(client);
    return new FakeApp(client);
  };
  t.after(async () => {
    clients.forEach((c) => c.close());
    upstream.close();
    await relay.close();
    cp.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { cp, identity, secretsSeen, upstream, relay, app };
}

const ldsRequest = (extra: Partial<DiscoveryRequest> = {}): DiscoveryRequest => ({
  typeUrl: LISTENER_TYPE,
  resourceNames: ['payments:50051'],
  node: { id: 'whatever-the-app-says', cluster: 'x', metadata: jsonToStruct({ service: 'admin' }), userAgentName: 'gRPC Node Pure JS' },
  ...extra,
});

test("the agent's own stream asks for its secrets with its node; the app's requests go up with the agent's node and the app's user agent", { timeout: 20_000 }, async (t) => {
  const { cp, app } = await setup(t);
  const sds = await cp.take(isSds);
  assert.equal(sds.node?.id, ID);
  assert.equal(sds.node?.userAgentName, AGENT_USER_AGENT);
  assert.deepEqual(sds.resourceNames, ['default', 'ROOTCA']);
  const meta = structToJson(sds.node?.metadata);
  assert.equal(meta.kind, 'grpc');
  assert.equal(meta.csr, '-----BEGIN CERTIFICATE REQUEST-----');
  const a = app();
  a.call.write(ldsRequest());
  const lds = await cp.take(isLds);
  assert.equal(lds.node?.id, ID, 'the node is the agent’s, not what the app wrote');
  assert.equal(structToJson(lds.node?.metadata).service, 'payments');
  assert.equal(lds.node?.userAgentName, 'gRPC Node Pure JS');
  assert.deepEqual(lds.resourceNames, ['payments:50051']);
  assert.equal(cp.streams, 1, 'one stream to the control plane carries both');
});

test('SDS responses stay with the agent and are ACKed after the files are written; other responses reach the app as they came', { timeout: 20_000 }, async (t) => {
  const { cp, app, identity, secretsSeen } = await setup(t);
  await cp.take(isSds);
  const a = app();
  a.call.write(ldsRequest());
  await cp.take(isLds);
  const sdsNonce = cp.send(SECRET, 's1', [{ name: 'ROOTCA', validationContext: { trustedCa: { inlineString: 'roots' } } }]);
  const ldsNonce = cp.send(LISTENER, 'l1', [{ name: 'payments:50051' }]);
  const ack = await cp.take((r) => isSds(r) && r.responseNonce === sdsNonce);
  assert.equal(ack.versionInfo, 's1');
  assert.equal(ack.errorDetail, undefined);
  assert.deepEqual(secretsSeen, [1]);
  assert.equal(identity.applied[0]!.get('ROOTCA')?.bundle, 'roots');
  await waitFor(async () => a.responses.length > 0, 'the LDS response at the app', 5000);
  assert.deepEqual(
    a.responses.map((r) => [r.typeUrl, r.versionInfo, r.nonce]),
    [[LISTENER_TYPE, 'l1', ldsNonce]],
  );
});

test("when the app's stream ends the upstream stream starts afresh, and a newer app stream replaces an older one", { timeout: 20_000 }, async (t) => {
  const { cp, app } = await setup(t);
  await cp.take(isSds);
  const first = app();
  first.call.write(ldsRequest());
  await cp.take(isLds);
  first.call.end();
  // A new stream, opened with the agent's SDS request: the control plane forgets the app's subscriptions.
  await cp.take(isSds);
  await waitFor(async () => cp.streams === 2, 'a second upstream stream', 5000);
  const second = app();
  second.call.write(ldsRequest());
  await cp.take(isLds);
  const third = app();
  third.call.write(ldsRequest({ resourceNames: ['other:1'] }));
  await waitFor(async () => second.status !== undefined, 'the older app stream ended', 5000);
  assert.equal(second.status?.code, grpc.status.ABORTED);
  const lds = await cp.take((r) => isLds(r) && r.resourceNames?.[0] === 'other:1');
  assert.equal(lds.node?.id, ID);
  assert.equal(cp.streams, 3);
});

test("when the control plane's stream ends the app's stream ends with UNAVAILABLE, and the agent reconnects", { timeout: 20_000 }, async (t) => {
  const { cp, app, upstream } = await setup(t);
  await cp.take(isSds);
  const a = app();
  a.call.write(ldsRequest());
  await cp.take(isLds);
  const port = cp.port;
  cp.stop();
  await waitFor(async () => a.status !== undefined, 'the app stream ended', 5000);
  assert.equal(a.status?.code, grpc.status.UNAVAILABLE);
  assert.match(a.status?.details ?? '', /stream to the control plane ended/);
  await cp.start(port);
  await cp.take(isSds, 10_000);
  cp.send(SECRET, 's2', []);
  await waitFor(async () => upstream.connected, 'reconnected', 5000);
  const again = app();
  again.call.write(ldsRequest());
  assert.equal((await cp.take(isLds)).node?.id, ID);
});

test('a readiness change goes up at once, and every forwarded request carries the current one; SDS requests of the app are not forwarded', { timeout: 20_000 }, async (t) => {
  const { cp, app, upstream } = await setup(t);
  await cp.take(isSds);
  upstream.reportReadiness('ready');
  const sds = await cp.take(isSds);
  assert.equal(structToJson(sds.node?.metadata).readiness, 'ready');
  const a = app();
  a.call.write({ typeUrl: SECRET_TYPE, resourceNames: ['default'] });
  a.call.write(ldsRequest());
  const lds = await cp.take(isLds);
  assert.equal(structToJson(lds.node?.metadata).readiness, 'ready');
  upstream.reportReadiness('draining');
  assert.equal(structToJson((await cp.take(isSds)).node?.metadata).readiness, 'draining');
  a.call.write(ldsRequest({ versionInfo: '1' }));
  assert.equal(structToJson((await cp.take(isLds)).node?.metadata).readiness, 'draining');
  assert.deepEqual(
    cp.untaken.filter((r) => isSds(r) && r.node?.userAgentName !== AGENT_USER_AGENT),
    [],
    'the app’s SDS request never reached the control plane',
  );
});

test('an app stream while the agent waits to reconnect opens the upstream stream at once', { timeout: 20_000 }, async (t) => {
  const cp = new FakeAdsServer();
  const port = await cp.start();
  cp.stop();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-relay-'));
  const identity = new FakeIdentity();
  // A backoff far longer than the test: only the app's stream can bring the agent back.
  const upstream = new ControlPlaneStream({
    server: `127.0.0.1:${port}`,
    node: { id: ID, metadata: META },
    identity,
    onSecrets: async () => {},
    backoff: { initialMs: 60_000, maxMs: 60_000 },
    random: () => 0.99,
    logger: pino({ level: 'silent' }),
  });
  const relay = new AppXdsServer({ socketPath: path.join(dir, 'xds.sock'), upstream, logger: pino({ level: 'silent' }) });
  await relay.listen();
  upstream.start();
  const client = new grpc.Client(`unix:${path.join(dir, 'xds.sock')}`, grpc.credentials.createInsecure());
  t.after(async () => {
    client.close();
    upstream.close();
    await relay.close();
    cp.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  await waitFor(async () => upstream.lastEnd !== undefined, 'the first attempt failed', 5000);
  await cp.start(port);
  const a = new FakeApp(client);
  a.call.write(ldsRequest());
  assert.equal((await cp.take(isSds)).node?.id, ID);
  assert.equal((await cp.take(isLds)).node?.id, ID);
});
