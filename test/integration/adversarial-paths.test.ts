// Hostile request paths and patterns against real sidecars (issue 10 items 5, 6 and 12): every
// spelling of a denied path that an app would resolve to it (`//internal`, `/./internal`,
// `/x/../internal`, `/.%2e/internal`, `/%69nternal`, an absolute-form target) is refused before
// it reaches the app, through the caller's sidecar and straight at the server's inbound port;
// ordinary paths reach the app normalized; a backtracking-prone header regex in an HTTPRoute
// is matched in linear time while other requests keep flowing; and a denial is logged with who,
// what and which policy rule.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { waitFor } from '../../src/common/wait.js';
import { cleanup } from './cleanup.js';
import { applyResources, api, FIXTURES, get, httpService, permissive, startControlPlane, startWorkload, waitForStatus } from './harness.js';

interface Answer {
  status: number;
  error: string | undefined;
  body: string;
}

/** One request with `target` sent as written (fetch would resolve `..` and `//` itself). */
function raw(port: number, target: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: target, headers, agent: false, timeout: 30_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, error: res.headers['x-trellis-error'] as string | undefined, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to ${target} within 30 s`)));
    req.on('error', reject);
    req.end();
  });
}

const denyInternal = {
  apiVersion: 'trellis.dev/v1alpha1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'no-internal', namespace: 'default' },
  spec: { targetRef: { kind: 'Service', name: 'web' }, action: 'DENY', rules: [{ to: [{ paths: [{ prefix: '/internal' }] }] }] },
};

const BYPASSES = [
  '//internal/a',
  '/./internal/a',
  '/x/../internal/a',
  '/.%2e/internal/x',
  '/%69nternal/a',
  '/%2e%2E/internal',
  '/a/b/../../../internal',
  '///internal//a',
  '/\\internal/a',
];

test('path spellings of a denied prefix are refused before the app; normal paths reach it normalized; a denial is logged', { timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-paths-'));
  cleanup(t, () => rmSync(dir, { recursive: true, force: true }));
  const recordFile = path.join(dir, 'received.txt');
  writeFileSync(recordFile, '');
  const received = () => readFileSync(recordFile, 'utf8').split('\n').filter(Boolean);

  const cp = await startControlPlane(t);
  await applyResources(cp, [permissive(httpService('web')), httpService('client')]);
  const web = await startWorkload(t, cp, { service: 'web', app: [process.execPath, path.join(FIXTURES, 'path-recorder-app.mjs')], env: { RECORD_FILE: recordFile } });
  const client = await startWorkload(t, cp, { service: 'client', upstreams: ['web:8080'] });
  const out = client.upstreamPorts['web:8080']!;
  await waitForStatus(`http://127.0.0.1:${out}/internal/a`, 200);
  await applyResources(cp, [denyInternal]);
  await waitForStatus(`http://127.0.0.1:${out}/internal/a`, 403);
  await waitForStatus(`http://127.0.0.1:${web.inboundPort}/internal/a`, 403);
  const before = received().length;

  // Through the caller's sidecar (mTLS to web) and straight at web's inbound port (plaintext, PERMISSIVE).
  for (const [via, port] of [
    ['client sidecar', out],
    ['web inbound', web.inboundPort],
  ] as const) {
    for (const target of [...BYPASSES, `http://web:8080/internal/a`]) {
      const a = await raw(port, target);
      assert.ok(a.status === 403 || a.status === 400, `${target} via ${via}: ${a.status} ${a.body}`);
    }
  }
  assert.deepEqual(
    received()
      .slice(before)
      .filter((p) => /internal|nternal/i.test(p)),
    [],
    'no spelling of /internal reached the app',
  );

  // Ordinary paths reach the app normalized; the query is untouched.
  for (const [target, normal] of [
    ['/public//a/./b/../c', '/public/a/c'],
    ['/%70ublic/%7euser?q=%2e%2e//x', '/public/~user?q=%2e%2e//x'],
    ['/public/a%2fb', '/public/a%2Fb'],
    ['/items/42', '/items/42'],
  ] as const) {
    for (const port of [out, web.inboundPort]) {
      const a = await raw(port, target);
      assert.equal(a.status, 200, `${target}: ${a.body}`);
      assert.equal((JSON.parse(a.body) as { path: string }).path, normal, target);
    }
  }

  // A path that cannot be normalized safely: 400 with the reason, not forwarded.
  const bad = await raw(web.inboundPort, '/public/%zz');
  assert.equal(bad.status, 400);
  assert.equal(bad.error, 'BAD_REQUEST');
  assert.match(bad.body, /"%zz" at offset 8 is not a valid percent-encoding/);
  assert.ok(!received().includes('/public/%zz'));

  // Escaped slashes: kept by default (`..%2F` is one segment, as in Istio's default); the mesh
  // setting decodes or refuses them. Each setting is awaited with a harmless path, so the
  // escaped spelling is only sent once the setting applies.
  const escaped = '/public/..%2f..%2finternal';
  const probe = '/public/a%2Fb';
  const meshConfig = (pathNormalization: object) => ({ apiVersion: 'trellis.dev/v1alpha1', kind: 'MeshConfig', metadata: { name: 'default' }, spec: { pathNormalization } });
  await applyResources(cp, [meshConfig({ normalization: 'DECODE_AND_MERGE_SLASHES' })]);
  await waitFor(async () => (await raw(web.inboundPort, probe)).body.includes('"path":"/public/a/b"'), 'DECODE_AND_MERGE_SLASHES to reach web', 20_000);
  await waitFor(async () => (await raw(out, probe)).body.includes('"path":"/public/a/b"'), 'DECODE_AND_MERGE_SLASHES to reach client', 20_000);
  assert.equal((await raw(web.inboundPort, escaped)).status, 403);
  assert.equal((await raw(out, escaped)).status, 403);
  await applyResources(cp, [meshConfig({ normalization: 'MERGE_SLASHES', escapedSlashes: 'REJECT_REQUEST' })]);
  await waitFor(async () => (await raw(web.inboundPort, probe)).status === 400, 'REJECT_REQUEST to reach web', 20_000);
  assert.match((await raw(web.inboundPort, probe)).body, /escaped slash \(%2F\)/);
  assert.equal((await raw(web.inboundPort, escaped)).status, 400);
  await applyResources(cp, [meshConfig({ normalization: 'MERGE_SLASHES', escapedSlashes: 'UNESCAPE_AND_REDIRECT' })]);
  await waitFor(async () => (await raw(web.inboundPort, probe)).status === 307, 'UNESCAPE_AND_REDIRECT to reach web', 20_000);
  assert.equal((await raw(web.inboundPort, escaped)).status, 307, 'redirected to /internal, where the DENY applies');
  const leaked = received()
    .slice(before)
    .filter((p) => /internal|nternal/i.test(p));
  assert.deepEqual(leaked, [], 'no spelling of /internal reached the app under any setting');

  // Each denial above is logged at the default level with who, what and which policy rule.
  await waitFor(async () => /"msg":"request denied"/.test(web.output()), 'a deny log line', 10_000);
  const lines = web
    .output()
    .split('\n')
    .filter((l) => l.includes('"msg":"request denied"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const mtls = lines.find((l) => typeof l.source === 'string' && l.source.startsWith('spiffe://'));
  assert.ok(mtls, `a line for a denial over mTLS: ${JSON.stringify(lines.slice(0, 3))}`);
  assert.match(mtls.source as string, /\/ns\/default\/sa\/client$/);
  const plaintext = lines.find((l) => l.source === 'unauthenticated');
  assert.ok(plaintext, 'a line for a plaintext denial');
  for (const l of [mtls, plaintext]) {
    assert.equal(l.level, 40, 'warn: seen at the default log level');
    assert.equal(l.service, 'web.default');
    assert.equal(l.policy, 'default/no-internal');
    assert.equal(l.rule, 'rules[0]');
    assert.equal(l.method, 'GET');
    assert.match(l.path as string, /^\/internal/);
    assert.match(String(l.sourceAddress), /127\.0\.0\.1/);
  }
});

test('a flood of denied requests is logged at a bounded rate with the count of the rest', { timeout: 120_000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [permissive(httpService('web'))]);
  const web = await startWorkload(t, cp, { service: 'web' });
  await applyResources(cp, [denyInternal]);
  await waitForStatus(`http://127.0.0.1:${web.inboundPort}/internal/x`, 403);
  const FLOOD = 300;
  const started = Date.now();
  const answers = await Promise.all(Array.from({ length: FLOOD }, (_, i) => raw(web.inboundPort, `/internal/${i}`)));
  const elapsedS = (Date.now() - started) / 1000;
  assert.ok(answers.every((a) => a.status === 403));
  // After the flood, one more denial (in a new second) or the end-of-second report carries the count.
  await new Promise((r) => setTimeout(r, 1100));
  await raw(web.inboundPort, '/internal/after');
  await waitFor(async () => /"suppressed":[1-9]/.test(web.output()), 'a line counting suppressed denials', 10_000);
  const lines = web
    .output()
    .split('\n')
    .filter((l) => l.includes('"component":"proxy.authz"'))
    .map((l) => JSON.parse(l) as { msg: string; suppressed: number });
  const denied = lines.filter((l) => l.msg === 'request denied');
  // At most 10 lines per second of flood (plus the one after it), far fewer than the requests.
  assert.ok(denied.length <= 10 * (Math.ceil(elapsedS) + 1) + 2, `${denied.length} lines for ${FLOOD} denials in ${elapsedS} s`);
  assert.ok(denied.length < FLOOD / 2);
  const counted = lines.reduce((n, l) => n + (l.suppressed ?? 0), 0);
  assert.ok(counted >= FLOOD + 2 - denied.length - 1, `suppressed counts ${counted} account for the lines not written (${denied.length} written)`);
});

test('a backtracking-prone header regex is accepted as RE2 and matched in linear time; other requests keep flowing', { timeout: 120_000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [httpService('web'), httpService('client')]);
  await startWorkload(t, cp, { service: 'web' });
  const client = await startWorkload(t, cp, { service: 'client', upstreams: ['web:8080'] });
  const out = `http://127.0.0.1:${client.upstreamPorts['web:8080']}`;
  await waitForStatus(`${out}/`, 200);

  // RE2 has no backtracking: `(a+)+$` is valid RE2 and accepted; a lookahead is not, and is refused naming the field.
  const route = (value: string) => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'evil', namespace: 'default' },
    spec: {
      parentRefs: [{ group: '', kind: 'Service', name: 'web', port: 8080 }],
      rules: [
        {
          matches: [{ headers: [{ type: 'RegularExpression', name: 'x-evil', value }] }],
          filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-matched', value: 'regex' }] } }],
          backendRefs: [{ name: 'web', port: 8080 }],
        },
        { backendRefs: [{ name: 'web', port: 8080 }] },
      ],
    },
  });
  const refused = await api(cp, 'POST', '/api/v1/apply', { resources: [route('(?=a)a+')] });
  assert.ok(refused.status >= 400 && refused.status < 500, `${refused.status} ${JSON.stringify(refused.body)}`);
  assert.match(JSON.stringify(refused.body), /spec\.rules\[0\]\.matches\[0\]\.headers\[0\]\.value/);
  assert.match(JSON.stringify(refused.body), /lookahead \(\?= or \(\?! is not supported by RE2/);
  await applyResources(cp, [route('(a+)+$')]);
  await waitFor(async () => (await get(`${out}/`, { headers: { 'x-evil': 'aaaa' } })).body?.headers?.['x-matched'] === 'regex', 'the regex route to apply', 20_000);

  // 40 characters that backtracking takes 2^40 steps to refuse, sent beside ordinary requests.
  const evil = 'a'.repeat(40) + '!';
  // (get gives each request 5 s: the old proxy, backtracking, answered none of them.)
  const [miss, ...others] = await Promise.all([
    get(`${out}/evil`, { headers: { 'x-evil': evil } }),
    ...Array.from({ length: 5 }, (_, i) => get(`${out}/other/${i}`)),
    get(`${out}/long`, { headers: { 'x-evil': 'a'.repeat(10_000) } }),
  ]);
  assert.equal(miss.status, 200);
  assert.equal(miss.body.headers['x-matched'], undefined, 'the evil value does not match: the catch-all rule served it');
  const long = others.pop()!;
  assert.equal(long.body.headers['x-matched'], 'regex', "10,000 a's match");
  for (const o of others) assert.equal(o.status, 200);
});
