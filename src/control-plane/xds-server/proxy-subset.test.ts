// What the control plane sends decodes the same through the proxy's subset of the Envoy API
// (src/xds/proxy-protos.ts) as through the full Root: a rich snapshot of every resource type,
// with mTLS, authorization, tracing, access logs, fault, rate limit and resilience settings.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTrafficPolicy } from '../../api/traffic-policy.js';
import { decodeMessage } from '../../xds/protos.js';
import { decodeProxyMessage } from '../../xds/proxy-protos.js';
import { CLUSTER_TYPE, DISCOVERY_RESPONSE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, SECRET_TYPE } from '../../xds/type-urls.js';
import { backend, httpRoute, input, proxy, service, workload } from '../translator/test-fixtures.js';
import { translate } from '../translator/translate.js';
import { encodeResponse } from './ads-service.js';

const policy = parseTrafficPolicy({
  apiVersion: 'trellis.dev/v1alpha1',
  kind: 'TrafficPolicy',
  metadata: { name: 'payments' },
  spec: {
    targetRef: { name: 'payments' },
    loadBalancer: { type: 'RingHash', hashOn: { header: 'X-User' } },
    timeouts: { connect: '1s', request: '10s', perTry: '2s' },
    retry: { attempts: 3, codes: [503], backoff: { base: '25ms' }, budget: { percent: 20 } },
    circuitBreaker: { maxRequests: 200 },
    outlierDetection: { consecutiveErrors: 5, interval: '5s', baseEjectionTime: '30s', maxEjectionPercent: 50 },
    faultInjection: { abort: { httpStatus: 503, percent: 1.5 } },
    rateLimit: { requests: 100, per: '1s' },
  },
});
assert.ok(policy.ok);
const denyWeb = (target: string) => ({
  apiVersion: 'trellis.dev/v1alpha1',
  kind: 'AuthorizationPolicy',
  metadata: { name: `no-web-${target}`, namespace: 'default' },
  spec: { targetRef: { kind: 'Service', name: target }, action: 'DENY', rules: [{ from: [{ serviceAccounts: ['web'] }] }] },
});

function richSnapshots() {
  const mesh = {
    ...input({
      services: [service('payments'), service('web'), service('ledger', { ports: [{ port: 5432, appProtocol: 'tcp' }] })],
      workloads: [
        workload('p1', 'payments', { address: '10.0.0.2' }),
        workload('p2', 'payments', { address: '10.0.0.3', labels: { version: 'v2' } }),
        workload('l1', 'ledger', { address: '10.0.0.4' }),
      ],
      httpRoutes: [httpRoute('split', [{ name: 'payments' }], [{ backendRefs: [backend('payments', 8080, 90), backend('web', 8080, 10)] }])],
      trafficPolicies: [policy.ok ? policy.value : (undefined as never)],
      meshConfig: {
        mtls: { mode: 'PERMISSIVE' },
        tracing: { samplingPercent: 5, collector: 'http://127.0.0.1:4318' },
        accessLog: { enabled: true, samplingPercent: 100 },
      } as never,
    }),
    security: { trustDomain: 'example.org' },
    authorizationPolicies: [denyWeb('payments'), denyWeb('ledger')] as never,
  };
  // A payments proxy: its inbound carries the authorization policy, its upstreams the traffic policy's settings.
  const node = proxy('p1', 'payments', {
    address: '10.0.0.2',
    inbound: [{ port: 15006, appPort: 8080 }],
    httpProxyPort: 15001,
    upstreams: [
      { service: 'payments', namespace: 'default', port: 8080, localPort: 9001 },
      { service: 'ledger', namespace: 'default', port: 5432, localPort: 9002 },
    ],
  });
  // A transparent ledger proxy: capture listeners (original_dst, http_inspector) and an opaque port's network RBAC.
  const captured = proxy('l1', 'ledger', { address: '10.0.0.4', inbound: [{ port: 5432, appPort: 5432 }], capture: { inboundPort: 15006, outboundPort: 15001 } });
  return [translate(mesh, node), translate(mesh, captured)];
}

const secrets = [
  { name: 'default', tlsCertificate: { certificateChain: { inlineString: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' } } },
  { name: 'ROOTCA', validationContext: { trustedCa: { inlineString: '-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n' } } },
];

test("every resource type of a rich snapshot decodes the same through the proxy's subset as through the full Root", () => {
  const seen = new Set<string>();
  for (const snapshot of richSnapshots()) {
    const byType = [
      [LISTENER_TYPE, [...snapshot.listeners.values()]],
      [ROUTE_TYPE, [...snapshot.routes.values()]],
      [CLUSTER_TYPE, [...snapshot.clusters.values()]],
      [ENDPOINT_TYPE, [...snapshot.endpoints.values()]],
      [SECRET_TYPE, secrets],
    ] as const;
    for (const [typeUrl, resources] of byType) {
      assert.ok(resources.length > 0, typeUrl);
      const bytes = encodeResponse({ versionInfo: '1', typeUrl, nonce: 'n', resources });
      const full = decodeMessage(DISCOVERY_RESPONSE, bytes);
      assert.deepEqual(decodeProxyMessage(DISCOVERY_RESPONSE, bytes), full, typeUrl);
      for (const m of JSON.stringify(full).matchAll(/"@type":"([^"]+)"/g)) seen.add(m[1]!.split('/')[1]!);
    }
  }
  // The snapshot exercised the typed configs it is meant to (each decoded, not left an opaque Any).
  for (const t of [
    'HttpConnectionManager',
    'TcpProxy',
    'Router',
    'extensions.filters.http.rbac.v3.RBAC',
    'extensions.filters.network.rbac.v3.RBAC',
    'HTTPFault',
    'LocalRateLimit',
    'DownstreamTlsContext',
    'UpstreamTlsContext',
    'OpenTelemetryConfig',
    'StdoutAccessLog',
    'TlsInspector',
    'OriginalDst',
    'HttpInspector',
  ]) {
    assert.ok(
      [...seen].some((s) => s.endsWith(t)),
      `the snapshot has no ${t}: ${[...seen].join(', ')}`,
    );
  }
});
