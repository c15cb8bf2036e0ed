// A cluster's upstream protocol (HttpProtocolOptions in typedExtensionProtocolOptions), decoded
// from the wire as Envoy reads it; what the proxy cannot honour is a NACK naming the field.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeCluster } from './decode-cluster.js';
import { formatProblems } from './errors.js';
import { staticCluster, wireCluster } from './xds-fixtures.js';

const OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
const TYPE = `type.googleapis.com/${OPTIONS}`;
const withOptions = (options: object) => wireCluster({ ...staticCluster('inbound|3000', 3000), typedExtensionProtocolOptions: { [OPTIONS]: { '@type': TYPE, ...options } } });

test('explicit HTTP/1.1 and HTTP/2 upstreams decode; downstream protocol and no options leave it to the client', () => {
  const protocol = (wire: unknown) => {
    const r = decodeCluster(wire);
    assert.ok(r.ok, r.ok ? '' : formatProblems(r.error));
    return r.value.config.upstreamProtocol;
  };
  assert.equal(protocol(withOptions({ explicitHttpConfig: { httpProtocolOptions: {} } })), 'http/1.1');
  assert.equal(protocol(withOptions({ explicitHttpConfig: { http2ProtocolOptions: {} } })), 'h2');
  assert.equal(protocol(withOptions({ useDownstreamProtocolConfig: {} })), undefined);
  assert.equal(protocol(wireCluster(staticCluster('inbound|3000', 3000))), undefined);
});

test('HTTP/3, auto config and options the proxy does not implement are refused with their path', () => {
  const problems = (wire: unknown) => {
    const r = decodeCluster(wire);
    assert.ok(!r.ok);
    return formatProblems(r.error);
  };
  assert.match(problems(withOptions({ explicitHttpConfig: { http3ProtocolOptions: {} } })), /explicitHttpConfig\.http3ProtocolOptions.*HTTP\/3 upstreams are not supported/);
  assert.match(problems(withOptions({ autoConfig: {} })), /autoConfig.*not supported/);
  assert.match(
    problems(withOptions({ explicitHttpConfig: { httpProtocolOptions: {} }, commonHttpProtocolOptions: { idleTimeout: { seconds: 5 } } })),
    /commonHttpProtocolOptions.*not supported/,
  );
});
