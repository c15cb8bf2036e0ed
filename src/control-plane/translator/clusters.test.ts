// The inbound cluster speaks to the app in the protocol its Service port declares (Envoy's
// explicit HttpProtocolOptions): http is HTTP/1.1, http2 and grpc HTTP/2; undeclared, opaque or
// disagreeing ports leave it to the caller's protocol.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AppProtocol } from '../../api/resource.js';
import { appHttpVersion } from './clusters.js';
import { input, proxy, service } from './test-fixtures.js';
import { translate } from './translate.js';

const OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
const node = proxy('web-1', 'web');

function inboundOptions(...declared: AppProtocol[]) {
  const services = declared.map((appProtocol, i) =>
    service(i === 0 ? 'web' : `web-${i}`, { selector: { app: 'web' }, ports: [{ port: 8080 + i, targetPort: 8080, appProtocol }] }),
  );
  const s = translate(input({ services }), node);
  return { options: s.clusters.get('inbound|8080')!.typedExtensionProtocolOptions, warnings: s.warnings };
}

test('an http port is spoken to in HTTP/1.1, http2 and grpc ports in HTTP/2', () => {
  assert.deepEqual(inboundOptions('http').options, { [OPTIONS]: { '@type': `type.googleapis.com/${OPTIONS}`, explicitHttpConfig: { httpProtocolOptions: {} } } });
  assert.deepEqual(inboundOptions('http2').options, { [OPTIONS]: { '@type': `type.googleapis.com/${OPTIONS}`, explicitHttpConfig: { http2ProtocolOptions: {} } } });
  assert.deepEqual(inboundOptions('grpc').options?.[OPTIONS].explicitHttpConfig, { http2ProtocolOptions: {} });
  assert.deepEqual(inboundOptions('grpc', 'http2').options?.[OPTIONS].explicitHttpConfig, { http2ProtocolOptions: {} }, 'two Services that agree');
});

test('a tcp port, or a port no Service declares, has no explicit protocol', () => {
  assert.equal(inboundOptions('tcp').options, undefined);
  assert.equal(translate(input({ services: [] }), node).clusters.get('inbound|8080')!.typedExtensionProtocolOptions, undefined);
});

test('Services declaring one app port as HTTP/1.1 and HTTP/2 leave it to the caller, with a warning naming them', () => {
  const { options, warnings } = inboundOptions('http', 'grpc');
  assert.equal(options, undefined);
  assert.ok(
    warnings.includes(
      "inbound port 15006 (app port 8080) is declared as both HTTP/1.1 and HTTP/2 by web.default:8080 (http), web-1.default:8081 (grpc); requests reach the app in the caller's protocol",
    ),
    warnings.join('\n'),
  );
});

test('appHttpVersion: the version the declared protocols agree on', () => {
  assert.equal(appHttpVersion([]), undefined);
  assert.equal(appHttpVersion(['tcp']), undefined);
  assert.equal(appHttpVersion(['http', 'tcp']), 'http1');
  assert.equal(appHttpVersion(['http2', 'grpc']), 'http2');
  assert.equal(appHttpVersion(['http', 'http2']), undefined);
});
