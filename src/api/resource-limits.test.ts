// Hostile or careless documents: what cannot be delivered to proxies, stored as data, or read without
// exhausting the stack is refused with its path and reason (issue 10, items 7 and 11).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseYamlDocuments } from './load-yaml.js';
import { parseResource } from './parse.js';
import { assertOk, assertProblem, withField } from './problem-assert.js';
import { formatProblem } from './problem.js';
import { MAX_DOCUMENT_DEPTH, MAX_RESOURCE_BYTES } from './raw-document.js';
import { MAX_SERVICE_PORTS, parseService } from './service.js';
import { MAX_POLICY_RULES } from './authorization-policy.js';

const service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'payments' },
  spec: { selector: { app: 'payments' }, ports: [{ port: 8080 }] },
};
const policy = {
  apiVersion: 'trellis.dev/v1alpha1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'p' },
  spec: { action: 'ALLOW', rules: [{ from: [{ namespaces: ['default'] }] }] },
};

const ports = (n: number) => Array.from({ length: n }, (_, i) => ({ port: 1000 + i }));

test('a Service with 10,000 ports is refused at spec.ports, naming the limit', () => {
  assertProblem(parseResource(withField(service, 'spec.ports', ports(10_000))), 'spec.ports', `must have at most ${MAX_SERVICE_PORTS} ports, got 10000`);
});

test(`a Service with ${MAX_SERVICE_PORTS} ports is accepted`, () => {
  assert.equal(assertOk(parseResource(withField(service, 'spec.ports', ports(MAX_SERVICE_PORTS)))).kind, 'Service');
});

test('an AuthorizationPolicy with too many rules, or an overlong header value, is refused with the path', () => {
  const rules = Array.from({ length: MAX_POLICY_RULES + 1 }, () => ({ from: [{ namespaces: ['default'] }] }));
  assertProblem(parseResource(withField(policy, 'spec.rules', rules)), 'spec.rules', `at most ${MAX_POLICY_RULES} item(s), got ${MAX_POLICY_RULES + 1}`);
  const header = [{ to: [{ headers: [{ name: 'x-user', exact: 'v'.repeat(5000) }] }] }];
  assertProblem(parseResource(withField(policy, 'spec.rules', header)), 'spec.rules[0].to[0].headers[0].exact', 'at most 4096 characters, got 5000');
  const namespaces = Array.from({ length: 65 }, (_, i) => `ns${i}`);
  assertProblem(parseResource(withField(policy, 'spec.rules[0].from[0].namespaces', namespaces)), 'spec.rules[0].from[0].namespaces', 'at most 64 item(s), got 65');
});

test('a resource larger than the per-resource limit is refused with its size', () => {
  const annotations = Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`note-${i}`, 'x'.repeat(4000)]));
  const r = parseResource(withField(service, 'metadata.annotations', annotations));
  assertProblem(r, '', `at most ${MAX_RESOURCE_BYTES} bytes are accepted per resource`);
});

test('a __proto__ label key is refused with its path, in JSON and in YAML, in labels and in selectors', () => {
  const labels = JSON.parse(
    '{"apiVersion":"v1","kind":"Service","metadata":{"name":"a","labels":{"__proto__":"x"}},"spec":{"selector":{"app":"a"},"ports":[{"port":80}]}}',
  ) as unknown;
  assertProblem(parseResource(labels), 'metadata.labels.__proto__', 'is not allowed');
  const selector = JSON.parse('{"apiVersion":"v1","kind":"Service","metadata":{"name":"a"},"spec":{"selector":{"__proto__":{"app":"a"}},"ports":[{"port":80}]}}') as unknown;
  assertProblem(parseResource(selector), 'spec.selector.__proto__', 'is not allowed');
  const yaml = parseYamlDocuments(
    'apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  labels:\n    __proto__: x\nspec:\n  selector: {app: a}\n  ports: [{port: 80}]\n',
    'svc.yaml',
  );
  assert.equal(yaml.ok, false);
  if (!yaml.ok) assert.match(formatProblem(yaml.error[0]!), /^svc\.yaml: document 1 \(Service default\/a\), line 6: metadata\.labels\.__proto__: key "__proto__" is not allowed/);
});

test('constructor and prototype label keys are kept as ordinary labels', () => {
  const s = assertOk(parseService(withField(withField(service, 'metadata.labels', { constructor: 'a', prototype: 'b' }), 'spec.selector', { constructor: 'a' })));
  assert.deepEqual(s.metadata.labels, { constructor: 'a', prototype: 'b' });
  assert.ok(Object.hasOwn(s.spec.selector, 'constructor'));
});

const nestedFlow = (n: number) => '['.repeat(n) + 'x' + ']'.repeat(n);

test('a deeply nested YAML document says how deep is too deep, and where, instead of overflowing the stack', () => {
  for (const spec of [nestedFlow(20_000), `\n  ${'- '.repeat(20_000)}x`]) {
    const r = parseYamlDocuments(`apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: ${spec}\n`, 'deep.yaml');
    assert.equal(r.ok, false);
    if (r.ok) continue;
    assert.equal(r.error.length, 1);
    const line = formatProblem(r.error[0]!);
    assert.match(line, new RegExp(`^deep\\.yaml: document 1, line [45]: document nests deeper than ${MAX_DOCUMENT_DEPTH} levels`));
    assert.doesNotMatch(line, /call stack/);
  }
});

test('nesting up to the limit is read normally (and refused only by the schema)', () => {
  const r = parseYamlDocuments(
    `apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {selector: {app: a}, ports: [{port: 80}], extra: ${nestedFlow(MAX_DOCUMENT_DEPTH - 3)}}\n`,
    'ok.yaml',
  );
  assert.equal(r.ok, false);
  if (!r.ok)
    assert.deepEqual(
      r.error.map((p) => p.message),
      ['unknown field "extra"'],
    );
});

test('a deeply nested JSON document is refused with the path where it goes too deep', () => {
  let spec = '1';
  for (let i = 0; i < 20_000; i++) spec = `{"a":${spec}}`;
  const raw = JSON.parse(`{"apiVersion":"v1","kind":"Service","metadata":{"name":"a"},"spec":${spec}}`) as unknown;
  const r = parseResource(raw);
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.equal(r.error.length, 1);
    assert.equal(r.error[0]!.path, `spec${'.a'.repeat(MAX_DOCUMENT_DEPTH - 1)}`);
    assert.match(r.error[0]!.message, /nests deeper than 64 levels/);
  }
});
