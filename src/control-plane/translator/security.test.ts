import assert from 'node:assert/strict';
import { test } from 'node:test';
import { translate } from './translate.js';
import { input, proxy, service, workload } from './test-fixtures.js';
import { MTLS_MODE_ANNOTATION } from './security.js';

const node = proxy('web-1', 'web');

test('without security the snapshot has no TLS', () => {
  const s = translate(input({ services: [service('web')] }), node);
  assert.equal(JSON.stringify(s).includes('transportSocket'), false);
});

test("with security, inbound listeners require mTLS (STRICT) and outbound clusters expect the selected workloads' SPIFFE IDs", () => {
  const i = {
    ...input({ services: [service('web'), service('reviews')], workloads: [workload('r1', 'reviews'), workload('r2', 'reviews'), workload('w', 'web')] }),
    security: { trustDomain: 'example.org' },
  };
  const s = translate(i, node);
  const l = s.listeners.get('inbound|15006')!;
  assert.equal(l.filterChains.length, 1);
  assert.equal((l.filterChains[0]!.transportSocket!.typedConfig as any).requireClientCertificate.value, true);
  const c = s.clusters.get('outbound|8080||reviews.default')!;
  const sans = (c.transportSocket!.typedConfig as any).commonTlsContext.combinedValidationContext.defaultValidationContext.matchTypedSubjectAltNames;
  assert.deepEqual(sans, [{ sanType: 'URI', matcher: { exact: 'spiffe://example.org/ns/default/sa/reviews' } }]);
  assert.equal(s.clusters.get('inbound|8080')!.transportSocket, undefined, 'the local app is reached in plaintext on loopback');
});

test('PERMISSIVE adds a plaintext chain; a Service annotation overrides the mesh mode and STRICT wins a disagreement', () => {
  const base = input({ services: [service('web')], meshConfig: { mtls: { mode: 'PERMISSIVE' as const } } });
  const permissive = translate({ ...base, security: { trustDomain: 't' } }, node).listeners.get('inbound|15006')!;
  assert.deepEqual(
    permissive.filterChains.map((c) => c.filterChainMatch?.transportProtocol),
    ['tls', 'raw_buffer'],
  );
  assert.equal(permissive.filterChains[1]!.transportSocket, undefined);
  const strictSvc = service('web');
  strictSvc.metadata.annotations = { [MTLS_MODE_ANNOTATION]: 'STRICT' };
  const other = service('web-alias', { selector: { app: 'web' } });
  other.metadata.annotations = { [MTLS_MODE_ANNOTATION]: 'PERMISSIVE' };
  const strict = translate({ ...input({ services: [strictSvc, other], meshConfig: { mtls: { mode: 'PERMISSIVE' as const } } }), security: { trustDomain: 't' } }, node);
  assert.equal(strict.listeners.get('inbound|15006')!.filterChains.length, 1);
  const bad = service('web');
  bad.metadata.annotations = { [MTLS_MODE_ANNOTATION]: 'OFF' };
  const warned = translate({ ...input({ services: [bad] }), security: { trustDomain: 't' } }, node);
  assert.ok(
    warned.warnings.some((w) => /trellis.io\/mtls-mode=OFF is not valid/.test(w)),
    JSON.stringify(warned.warnings),
  );
});

test('outbound clusters expect only the identities their Service admits, never one that merely claims its labels', () => {
  const i = {
    ...input({ services: [service('web'), service('payments')], workloads: [workload('p', 'payments'), workload('rogue', 'evil', { labels: { app: 'payments' } })] }),
    security: { trustDomain: 'example.org' },
  };
  const c = translate(i, node).clusters.get('outbound|8080||payments.default')!;
  const sans = (c.transportSocket!.typedConfig as any).commonTlsContext.combinedValidationContext.defaultValidationContext.matchTypedSubjectAltNames;
  assert.deepEqual(sans, [{ sanType: 'URI', matcher: { exact: 'spiffe://example.org/ns/default/sa/payments' } }]);
});
