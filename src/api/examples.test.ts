import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { parseYamlDocuments } from './load-yaml.js';
import { formatProblem } from './problem.js';

// The compiled test runs from dist/ or a build folder; examples/ and docs/ live at the repository root.
function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) || !existsSync(path.join(dir, 'examples'))) {
    const parent = path.dirname(dir);
    assert.notEqual(parent, dir, 'no examples/ folder above the test');
    dir = parent;
  }
  return dir;
}

const root = findRoot();
const dir = path.join(root, 'examples');
/** Every YAML file under examples/, as paths relative to it (subfolders such as demo/ included). */
const files = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => /\.ya?ml$/.test(f)).sort();

test('the examples folder has the documented examples', () => {
  for (const f of [
    'payments-service.yaml',
    'payments-canary.yaml',
    'header-routing.yaml',
    'mesh-config.yaml',
    'payments-traffic-policy.yaml',
    'chaos-fault-injection.yaml',
    'ab-routing.yaml',
    'route-filters.yaml',
    'grpc-route.yaml',
    'tcp-route.yaml',
  ])
    assert.ok(files.includes(f), f);
});

for (const f of files) {
  test(`example ${f} parses without problems`, () => {
    const r = parseYamlDocuments(readFileSync(path.join(dir, f), 'utf8'), f);
    if (!r.ok) assert.fail(r.error.map(formatProblem).join('\n'));
    assert.ok(r.value.length > 0, 'no resources');
  });
}

test('the canary example splits payments 90/10 between v1 and v2 on port 8080', () => {
  const r = parseYamlDocuments(readFileSync(path.join(dir, 'payments-canary.yaml'), 'utf8'), 'payments-canary.yaml');
  assert.ok(r.ok);
  const route = r.value[0]!;
  assert.equal(route.kind, 'HTTPRoute');
  if (route.kind !== 'HTTPRoute') return;
  assert.deepEqual(route.spec.parentRefs, [{ group: '', kind: 'Service', name: 'payments', port: 8080 }]);
  assert.deepEqual(
    route.spec.rules[0]!.backendRefs.map((b) => [b.name, b.port, b.weight]),
    [
      ['payments-v1', 8080, 90],
      ['payments-v2', 8080, 10],
    ],
  );
});

test('the header-routing example sends x-canary: true to v2', () => {
  const r = parseYamlDocuments(readFileSync(path.join(dir, 'header-routing.yaml'), 'utf8'), 'header-routing.yaml');
  assert.ok(r.ok);
  const route = r.value[0]!;
  if (route.kind !== 'HTTPRoute') return assert.fail(`expected an HTTPRoute, got ${route.kind}`);
  const canary = route.spec.rules[0]!;
  assert.deepEqual(canary.matches[0]!.headers, [{ type: 'Exact', name: 'x-canary', value: 'true' }]);
  assert.equal(canary.backendRefs[0]!.name, 'payments-v2');
});

const reference = readFileSync(path.join(root, 'docs/configuration.md'), 'utf8');
const yamlBlocks = [...reference.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => b.startsWith('apiVersion:'));

test('every complete YAML example in docs/configuration.md parses', () => {
  assert.ok(yamlBlocks.length >= 4, `found ${yamlBlocks.length} examples`);
  yamlBlocks.forEach((block, i) => {
    const r = parseYamlDocuments(block, `configuration.md example ${i + 1}`);
    if (!r.ok) assert.fail(r.error.map(formatProblem).join('\n'));
  });
});

test('the Service shown "stored as" in the docs is what parsing the example before it gives', () => {
  const [example, stored] = yamlBlocks;
  const r = parseYamlDocuments(example!, 'example');
  assert.ok(r.ok);
  assert.deepEqual(r.value, [parseYaml(stored!)]);
});

test('the error lines shown in the docs are what the canary example with those mistakes gives', () => {
  const text = readFileSync(path.join(dir, 'payments-canary.yaml'), 'utf8')
    .replace('kind: Service', 'kind: Gateway')
    .replace('      weight: 90', '      weigth: 90')
    .replace('weight: 10', 'weight: -1');
  const r = parseYamlDocuments(text, 'payments-canary.yaml');
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.error.length, 3);
  for (const p of r.error) assert.ok(reference.includes(formatProblem(p)), `docs do not show: ${formatProblem(p)}`);
});

const one = (f: string) => {
  const r = parseYamlDocuments(readFileSync(path.join(dir, f), 'utf8'), f);
  if (!r.ok) assert.fail(r.error.map(formatProblem).join('\n'));
  return r.value[0]!;
};

test('the A/B example sends the x-variant header and the variant=b cookie to v2, the rest to v1', () => {
  const route = one('ab-routing.yaml');
  if (route.kind !== 'HTTPRoute') return assert.fail(route.kind);
  const [ab, rest] = route.spec.rules;
  const cookie = ab!.matches[1]!.headers![0]!;
  assert.equal(cookie.name, 'cookie');
  const re = new RegExp(`^(?:${cookie.value})$`);
  assert.ok(re.test('variant=b') && re.test('theme=dark; variant=b') && re.test('variant=b; theme=dark'));
  assert.ok(!re.test('variant=bb') && !re.test('xvariant=b'));
  assert.equal(ab!.backendRefs[0]!.name, 'payments-v2');
  assert.equal(rest!.backendRefs[0]!.name, 'payments-v1');
});

test('the traffic policy example targets payments-v2 with ring hash, a retry budget and outlier detection', () => {
  const p = one('payments-traffic-policy.yaml');
  if (p.kind !== 'TrafficPolicy') return assert.fail(p.kind);
  assert.equal(p.spec.targetRef.name, 'payments-v2');
  assert.deepEqual(p.spec.loadBalancer, { type: 'RingHash', hashOn: { header: 'x-user-id' } });
  assert.deepEqual(p.spec.retry?.budget, { percent: 20, minConcurrency: 3 });
  assert.equal(p.spec.outlierDetection?.consecutiveErrors, 5);
});

const traffic = readFileSync(path.join(root, 'docs/traffic.md'), 'utf8');
const trafficBlocks = [...traffic.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => b.startsWith('apiVersion:'));

test('every complete YAML example in docs/traffic.md parses', () => {
  assert.ok(trafficBlocks.length >= 6, `found ${trafficBlocks.length} examples`);
  trafficBlocks.forEach((block, i) => {
    const r = parseYamlDocuments(block, `traffic.md example ${i + 1}`);
    if (!r.ok) assert.fail(r.error.map(formatProblem).join('\n'));
  });
});

test('docs/traffic.md names every TrafficPolicy field', () => {
  for (const field of [
    'targetRef',
    'loadBalancer',
    'hashOn',
    'timeouts',
    'perTry',
    'retry',
    'attempts',
    'grpcCodes',
    'backoff',
    'nonIdempotent',
    'budget',
    'minConcurrency',
    'circuitBreaker',
    'maxConnections',
    'maxPendingRequests',
    'maxRequests',
    'maxRetries',
    'outlierDetection',
    'consecutiveErrors',
    'baseEjectionTime',
    'maxEjectionPercent',
    'failureRate',
    'faultInjection',
    'fixedDelay',
    'httpStatus',
    'grpcStatus',
    'rateLimit',
    'burst',
  ]) {
    assert.ok(new RegExp(`[.\`]${field}[.\`]`).test(traffic), `docs/traffic.md does not name ${field}`);
  }
});
