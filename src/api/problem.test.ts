import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeValue, formatPath, formatProblem, parsePath, underPath } from './problem.js';

const paths: [Array<string | number>, string][] = [
  [['spec', 'rules', 2, 'backendRefs', 0, 'weight'], 'spec.rules[2].backendRefs[0].weight'],
  [['metadata', 'labels', 'app.kubernetes.io/name'], 'metadata.labels["app.kubernetes.io/name"]'],
  [['metadata', 'labels', 'bad key!'], 'metadata.labels["bad key!"]'],
  [['spec', 'selector', '0'], 'spec.selector["0"]'],
  [['a', ''], 'a[""]'],
  [['x-canary'], 'x-canary'],
  [[0, 'a'], '[0].a'],
  [[], ''],
];

for (const [segments, text] of paths) {
  test(`formatPath renders ${JSON.stringify(segments)} as ${text}`, () => {
    assert.equal(formatPath(segments), text);
  });
  test(`parsePath reads ${JSON.stringify(text)} back into its segments`, () => {
    assert.deepEqual(parsePath(text), segments);
  });
}

for (const bad of ['.a', 'a..b', 'a[x]', 'a b', 'a[1', 'a["x]', 'a[0]b']) {
  test(`parsePath refuses ${JSON.stringify(bad)}`, () => {
    assert.equal(parsePath(bad), undefined);
  });
}

test('describeValue shows strings quoted, numbers bare, and containers by kind', () => {
  assert.equal(describeValue('8080'), '"8080"');
  assert.equal(describeValue(-1), '-1');
  assert.equal(describeValue(null), 'null');
  assert.equal(describeValue(undefined), 'nothing');
  assert.equal(describeValue([1]), 'a list');
  assert.equal(describeValue({ a: 1 }), 'a map');
  assert.equal(describeValue(true), 'true');
});

test('describeValue shortens long strings and says how long they were', () => {
  const shown = describeValue('x'.repeat(500));
  assert.ok(shown.length < 80, shown);
  assert.match(shown, /\(500 characters\)$/);
});

test('formatProblem gives file, document, resource, line, path and message on one line', () => {
  const line = formatProblem({
    file: 'routes.yaml',
    document: 2,
    resource: 'HTTPRoute default/split',
    line: 14,
    path: 'spec.rules[0].backendRefs[1].weight',
    message: 'must be >= 0, got -1',
  });
  assert.equal(line, 'routes.yaml: document 2 (HTTPRoute default/split), line 14: spec.rules[0].backendRefs[1].weight: must be >= 0, got -1');
});

test('formatProblem of an unlocated problem is path and message', () => {
  assert.equal(formatProblem({ path: 'spec.ports', message: 'required' }), 'spec.ports: required');
});

test('formatProblem leaves out an empty path and missing location parts', () => {
  assert.equal(formatProblem({ file: 'a.yaml', line: 3, path: '', message: 'YAML syntax error: x' }), 'a.yaml: line 3: YAML syntax error: x');
  assert.equal(formatProblem({ resource: 'Service default/a', path: 'spec', message: 'required' }), 'Service default/a: spec: required');
});

test('underPath prefixes paths, joining keys with a dot and indexes directly', () => {
  const out = underPath('spec.rules[0]', [
    { path: 'matches[1].path', message: 'a' },
    { path: '[2]', message: 'b' },
    { path: '', message: 'c' },
  ]);
  assert.deepEqual(
    out.map((p) => p.path),
    ['spec.rules[0].matches[1].path', 'spec.rules[0][2]', 'spec.rules[0]'],
  );
});
