import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDocument, LineCounter } from 'yaml';
import { parseYamlDocuments } from './load-yaml.js';
import type { LocatedProblem } from './problem.js';
import { formatProblem } from './problem.js';
import { lineOfPath } from './yaml-location.js';

const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: payments
spec:
  selector: {app: payments}
  ports:
  - port: 8080
`;
const ROUTE = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: split
spec:
  parentRefs:
  - name: payments
    port: 8080
  rules:
  - backendRefs:
    - name: payments-v1
      port: 8080
      weight: 90
    - name: payments-v2
      port: 8080
      weight: 10
`;

function problemsOf(text: string): LocatedProblem[] {
  const r = parseYamlDocuments(text, 'routes.yaml');
  assert.equal(r.ok, false, 'expected problems');
  return r.ok ? [] : r.error;
}

test('parses every document of a file, in order', () => {
  const r = parseYamlDocuments(`${SERVICE}---\n${ROUTE}`, 'a.yaml');
  assert.ok(r.ok);
  assert.deepEqual(
    r.value.map((x) => `${x.kind} ${x.metadata.name}`),
    ['Service payments', 'HTTPRoute split'],
  );
});

test('skips empty documents and comment-only documents', () => {
  const r = parseYamlDocuments(`---\n# nothing here\n---\n${SERVICE}---\n---\n`, 'a.yaml');
  assert.ok(r.ok);
  assert.equal(r.value.length, 1);
});

test('an empty file is no resources', () => {
  assert.deepEqual(parseYamlDocuments('', 'a.yaml'), { ok: true, value: [] });
});

test('one bad document means no resources, and the problem names file, document, resource and line', () => {
  const bad = ROUTE.replace('weight: 10', 'weight: -1');
  const problems = problemsOf(`${SERVICE}---\n${bad}`);
  assert.equal(problems.length, 1);
  assert.equal(formatProblem(problems[0]!), 'routes.yaml: document 2 (HTTPRoute default/split), line 25: spec.rules[0].backendRefs[1].weight: must be >= 0, got -1');
});

test('problems in several documents are all reported', () => {
  const problems = problemsOf(`${SERVICE.replace('port: 8080', 'port: 0')}---\n${ROUTE.replace('weight: 90', 'weigth: 90')}`);
  assert.deepEqual(
    problems.map((p) => [p.document, p.line, p.path]),
    [
      [1, 8, 'spec.ports[0].port'],
      [2, 22, 'spec.rules[0].backendRefs[0].weigth'],
    ],
  );
});

test('a missing field is placed at the line of its nearest parent', () => {
  const problems = problemsOf(ROUTE.replace('      port: 8080\n      weight: 90\n', '      weight: 90\n'));
  assert.deepEqual(
    problems.map((p) => [p.line, p.path, p.message]),
    [[11, 'spec.rules[0].backendRefs[0].port', 'required: the port of the backend Service']],
  );
});

test('a problem in a resource without a usable name still names the document', () => {
  const [p] = problemsOf('apiVersion: v1\nkind: Service\nmetadata: {}\nspec: {selector: {a: b}, ports: [{port: 1}]}\n');
  assert.equal(formatProblem(p!), 'routes.yaml: document 1 (Service), line 3: metadata.name: required');
});

test('a YAML syntax error names the file, document and line', () => {
  const [p] = problemsOf(`${SERVICE}---\nkind: Service\nmetadata: {name: [\n`);
  assert.equal(p!.file, 'routes.yaml');
  assert.equal(p!.document, 2);
  assert.equal(p!.line, 12, 'the unclosed [ runs to the end of the file');
  assert.match(p!.message, /^YAML syntax error: /);
  assert.equal(p!.message.includes('\n'), false);
});

test('a key given twice in one map is a YAML error', () => {
  const [p] = problemsOf(SERVICE.replace('kind: Service\n', 'kind: Service\nkind: Service\n'));
  assert.equal(p!.line, 3);
  assert.match(p!.message, /unique/);
});

test('the same kind/namespace/name twice in one file is refused at the second', () => {
  const problems = problemsOf(`${SERVICE}---\n${ROUTE}---\n${SERVICE}`);
  assert.equal(problems.length, 1);
  assert.equal(
    formatProblem(problems[0]!),
    'routes.yaml: document 3 (Service default/payments), line 30: metadata.name: Service default/payments is already defined in document 1 of this file',
  );
});

test('the same name in another namespace or of another kind is not a duplicate', () => {
  const other = SERVICE.replace('  name: payments\n', '  name: payments\n  namespace: shop\n');
  const r = parseYamlDocuments(`${SERVICE}---\n${other}`, 'a.yaml');
  assert.ok(r.ok);
});

test('a document that is not a map is refused', () => {
  const [p] = problemsOf('- a\n- b\n');
  assert.equal(p!.path, '');
  assert.equal(p!.line, 1);
  assert.match(p!.message, /must be a map/);
});

test('alias bombs are refused rather than expanded', () => {
  const bomb =
    'a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n';
  const [p] = problemsOf(bomb);
  assert.match(p!.message, /alias/i);
});

test('lineOfPath finds map keys, list items, quoted keys, and falls back to the parent', () => {
  const text = 'a:\n  b:\n  - x: 1\n  - "y.z": 2\n';
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  assert.equal(lineOfPath(doc, ['a'], lc), 1);
  assert.equal(lineOfPath(doc, ['a', 'b', 1], lc), 4);
  assert.equal(lineOfPath(doc, ['a', 'b', 1, 'y.z'], lc), 4);
  assert.equal(lineOfPath(doc, ['a', 'b', 0, 'missing'], lc), 3);
  assert.equal(lineOfPath(doc, ['a', 'b', 5], lc), 2);
  assert.equal(lineOfPath(doc, [], lc), 1);
});

test('problems of one document are listed in line order', () => {
  const text = SERVICE.replace('kind: Service', 'kind: Service\nextra: 1').replace('  name: payments', '  name: Payments');
  assert.deepEqual(
    problemsOf(text).map((p) => [p.line, p.path]),
    [
      [3, 'extra'],
      [5, 'metadata.name'],
    ],
  );
});
