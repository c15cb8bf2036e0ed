// `trellis apply`, `get` and `delete` against a real REST API (in this process, on a free port, memory store).
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { cleanup } from './cleanup.js';
import { parseResource } from '../../src/api/parse.js';
import { runApply } from '../../src/cli/commands/apply.js';
import { runDelete } from '../../src/cli/commands/delete.js';
import { runGet } from '../../src/cli/commands/get.js';
import type { CliIo } from '../../src/cli/io.js';
import { createRestApi, type ProxyStatus } from '../../src/control-plane/rest-api/index.js';
import { createMemoryStore } from '../../src/control-plane/store/index.js';
import { freePort } from '../../src/common/free-port.js';

const SERVICES = `apiVersion: v1
kind: Service
metadata:
  name: payments
spec:
  selector: { app: payments }
  ports: [{ name: http, port: 8080 }]
---
apiVersion: v1
kind: Service
metadata:
  name: ledger
  namespace: shop
spec:
  selector: { app: ledger }
  ports: [{ port: 9090, appProtocol: grpc }]
`;
const ROUTE = (weight: number) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: payments
spec:
  parentRefs: [{ name: payments, port: 8080 }]
  rules:
    - backendRefs: [{ name: payments, port: 8080, weight: ${weight} }]
`;

interface Env {
  url: string;
  dir: string;
  file(name: string, text: string): Promise<string>;
  /** Runs a command function with captured output; `stdin` feeds `-f -`. */
  run(fn: (io: CliIo) => Promise<number>, stdin?: string): Promise<{ code: number; out: string; err: string }>;
}

/** A table's cells (columns are at least three spaces apart), with ages (they depend on the clock) replaced by `AGE`. */
function cells(table: string): string[][] {
  const [header, ...rows] = table
    .trimEnd()
    .split('\n')
    .map((l) => l.split(/ {3,}/));
  const ageColumns = header!.flatMap((h, i) => (h === 'AGE' || h === 'LAST-SEEN' ? [i] : []));
  return [header!, ...rows.map((r) => r.map((c, i) => (ageColumns.includes(i) && /^\d+s$/.test(c) ? 'AGE' : c)))];
}

async function setup(t: TestContext, proxies?: () => ProxyStatus[]): Promise<Env> {
  const store = createMemoryStore();
  const server = http.createServer(createRestApi({ store, parseResource, ...(proxies ? { proxies } : {}) }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'trellis-cli-'));
  cleanup(t, async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await store.close();
    await fsp.rm(dir, { recursive: true, force: true });
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    dir,
    async file(name, text) {
      const f = path.join(dir, name);
      await fsp.writeFile(f, text);
      return f;
    },
    async run(fn, stdin = '') {
      let out = '';
      let err = '';
      const code = await fn({
        out: (s) => {
          out += s;
        },
        err: (s) => {
          err += s;
        },
        readStdin: async () => stdin,
      });
      return { code, out, err };
    },
  };
}

test('apply -f creates, re-applying reports unchanged, a change reports configured', async (t) => {
  const env = await setup(t);
  const services = await env.file('services.yaml', SERVICES);
  const route = await env.file('route.yaml', ROUTE(1));
  const controlPlane = env.url;
  const first = await env.run((io) => runApply({ filename: [services, route], controlPlane }, io));
  assert.deepEqual(first, { code: 0, out: 'service/payments created\nservice/ledger created\nhttproute/payments created\n', err: '' });
  const again = await env.run((io) => runApply({ filename: [services, route], controlPlane }, io));
  assert.equal(again.out, 'service/payments unchanged\nservice/ledger unchanged\nhttproute/payments unchanged\n');
  await env.file('route.yaml', ROUTE(5));
  const changed = await env.run((io) => runApply({ filename: [route], controlPlane }, io));
  assert.equal(changed.out, 'httproute/payments configured\n');
});

test('apply -f - reads standard input; --dry-run changes nothing', async (t) => {
  const env = await setup(t);
  const dry = await env.run((io) => runApply({ filename: ['-'], dryRun: true, controlPlane: env.url }, io), ROUTE(1));
  assert.equal(dry.out, 'httproute/payments created (dry run)\n');
  const none = await env.run((io) => runGet('httproutes', undefined, { controlPlane: env.url }, io));
  assert.equal(none.err, 'No resources found in default namespace.\n');
  const real = await env.run((io) => runApply({ filename: ['-'], controlPlane: env.url }, io), ROUTE(1));
  assert.equal(real.out, 'httproute/payments created\n');
});

test('apply of a directory applies its YAML files in name order', async (t) => {
  const env = await setup(t);
  await fsp.mkdir(path.join(env.dir, 'all'));
  await env.file('all/2-route.yaml', ROUTE(1));
  await env.file('all/1-services.yml', SERVICES);
  await env.file('all/notes.txt', 'not a manifest');
  const r = await env.run((io) => runApply({ filename: [path.join(env.dir, 'all')], controlPlane: env.url }, io));
  assert.equal(r.out, 'service/payments created\nservice/ledger created\nhttproute/payments created\n');
});

test('an invalid file prints one line per problem with file, document and line, and applies nothing', async (t) => {
  const env = await setup(t);
  const bad = await env.file('bad.yaml', `${SERVICES}---\n${ROUTE(-1)}`);
  const r = await env.run((io) => runApply({ filename: [bad], controlPlane: env.url }, io));
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  const lines = r.err.trimEnd().split('\n');
  assert.ok(lines.length >= 1);
  assert.match(lines[0]!, /bad\.yaml: document 3 \(HTTPRoute default\/payments\), line \d+: spec\.rules\[0\]\.backendRefs\[0\]\.weight: /);
  const get = await env.run((io) => runGet('svc', undefined, { allNamespaces: true, controlPlane: env.url }, io));
  assert.equal(get.err, 'No resources found.\n', 'the valid Services in the same file were not applied');
});

test('a missing file is one error line', async (t) => {
  const env = await setup(t);
  const r = await env.run((io) => runApply({ filename: [path.join(env.dir, 'nope.yaml')], controlPlane: env.url }, io));
  assert.equal(r.code, 1);
  assert.match(r.err, /^error: cannot read .*nope\.yaml: ENOENT[^\n]*\n$/);
});

test('without a control plane every command fails with one clear line', async (t) => {
  const env = await setup(t);
  const url = `http://127.0.0.1:${await freePort()}`;
  const file = await env.file('s.yaml', SERVICES);
  const expected = `error: cannot reach the control plane at ${url}: connection refused (is \`trellis control-plane\` running?)\n`;
  for (const run of [
    (io: CliIo) => runApply({ filename: [file], controlPlane: url }, io),
    (io: CliIo) => runGet('svc', undefined, { controlPlane: url }, io),
    (io: CliIo) => runDelete(['svc', 'a', 'b'], { controlPlane: url }, io),
  ]) {
    assert.deepEqual(await env.run(run), { code: 1, out: '', err: expected });
  }
});

test('the control plane URL can come from TRELLIS_CONTROL_PLANE', async (t) => {
  const env = await setup(t);
  const saved = process.env.TRELLIS_CONTROL_PLANE;
  process.env.TRELLIS_CONTROL_PLANE = env.url;
  cleanup(t, () => {
    if (saved === undefined) delete process.env.TRELLIS_CONTROL_PLANE;
    else process.env.TRELLIS_CONTROL_PLANE = saved;
  });
  const r = await env.run((io) => runGet('meshconfig', undefined, {}, io));
  assert.deepEqual(r, { code: 0, out: '', err: 'No resources found.\n' });
});

test('get shows a table of the namespace, -A adds a NAMESPACE column, -n picks another namespace', async (t) => {
  const env = await setup(t);
  await env.run((io) => runApply({ filename: ['-'], controlPlane: env.url }, io), SERVICES);
  const now = new Date(Date.now() + 5000);
  const def = await env.run((io) => runGet('svc', undefined, { controlPlane: env.url }, io, undefined, now));
  assert.deepEqual(cells(def.out), [
    ['NAME', 'PORTS', 'AGE'],
    ['payments', '8080/http', 'AGE'],
  ]);
  const all = await env.run((io) => runGet('services', undefined, { allNamespaces: true, controlPlane: env.url }, io, undefined, now));
  assert.deepEqual(
    all.out
      .trimEnd()
      .split('\n')
      .map((l) => l.split(/\s+/).slice(0, 2).join(' ')),
    ['NAMESPACE NAME', 'default payments', 'shop ledger'],
  );
  const shop = await env.run((io) => runGet('service', undefined, { namespace: 'shop', output: 'wide', controlPlane: env.url }, io, undefined, now));
  assert.deepEqual(cells(shop.out), [
    ['NAME', 'PORTS', 'AGE', 'SELECTOR'],
    ['ledger', '9090/grpc', 'AGE', 'app=ledger'],
  ]);
});

test('get NAME -o yaml prints a document that applies back as unchanged', async (t) => {
  const env = await setup(t);
  await env.run((io) => runApply({ filename: ['-'], controlPlane: env.url }, io), ROUTE(3));
  const yaml = await env.run((io) => runGet('httproute', 'payments', { output: 'yaml', controlPlane: env.url }, io));
  assert.equal(yaml.code, 0);
  assert.match(yaml.out, /^apiVersion: gateway\.networking\.k8s\.io\/v1\nkind: HTTPRoute\n/);
  assert.match(yaml.out, /resourceVersion: "1"/);
  const back = await env.run((io) => runApply({ filename: ['-'], controlPlane: env.url }, io), yaml.out);
  assert.equal(back.out, 'httproute/payments unchanged\n');
  const json = await env.run((io) => runGet('httproute', 'payments', { output: 'json', controlPlane: env.url }, io));
  assert.equal(JSON.parse(json.out).spec.rules[0].backendRefs[0].weight, 3);
});

test('get of a missing resource, an unknown kind or a bad -o is one error line and exit 1', async (t) => {
  const env = await setup(t);
  const controlPlane = env.url;
  assert.deepEqual(await env.run((io) => runGet('svc', 'ghost', { controlPlane }, io)), { code: 1, out: '', err: 'error: Service default/ghost not found\n' });
  const kind = await env.run((io) => runGet('pods', undefined, { controlPlane }, io));
  assert.match(
    kind.err,
    /^error: unknown resource type "pods"; expected service \(svc, services\), httproute \(httproutes\), meshconfig \(meshconfigs\), authorizationpolicy \(authz, authorizationpolicies\), trafficpolicy \(trafficpolicies\), grpcroute \(grpcroutes\), tcproute \(tcproutes\), requestauthentication \(requestauthn, requestauthentications\), externalservice \(extsvc, externalservices\), gatewayclass \(gc, gatewayclasses\), gateway \(gtw, gateways\), secret \(secrets\) or proxies\n$/,
  );
  const format = await env.run((io) => runGet('svc', undefined, { output: 'xml', controlPlane }, io));
  assert.equal(format.err, 'error: -o xml is not valid: expected yaml, json or wide\n');
  const both = await env.run((io) => runGet('svc', 'a', { allNamespaces: true, controlPlane }, io));
  assert.equal(both.code, 1);
});

test('get meshconfig works without a namespace', async (t) => {
  const env = await setup(t);
  await env.run(
    (io) => runApply({ filename: ['-'], controlPlane: env.url }, io),
    'apiVersion: trellis.dev/v1alpha1\nkind: MeshConfig\nmetadata: { name: default }\nspec: { loadBalancer: LeastRequest }\n',
  );
  const r = await env.run((io) => runGet('meshconfig', 'default', { namespace: 'shop', controlPlane: env.url }, io));
  assert.deepEqual(cells(r.out), [
    ['NAME', 'LOAD-BALANCER', 'CONNECT-TIMEOUT', 'GRACE-PERIOD', 'AGE'],
    ['default', 'LeastRequest', '5000ms', '30s', 'AGE'],
  ]);
});

test('get proxies lists connected proxies with their versions and NACKs', async (t) => {
  const proxy: ProxyStatus = {
    id: 'payments-7f3c',
    service: 'payments',
    namespace: 'default',
    address: '127.0.0.1',
    connected: true,
    lastSeen: new Date().toISOString(),
    versions: { listeners: '2', routes: '1', clusters: '2', endpoints: '3' },
    nacks: [{ typeUrl: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration', version: '2', nonce: '5', message: 'unknown cluster "x"', at: new Date().toISOString() }],
  };
  const env = await setup(t, () => [proxy]);
  const r = await env.run((io) => runGet('proxies', undefined, { controlPlane: env.url }, io));
  assert.equal(r.code, 0);
  assert.deepEqual(cells(r.out).slice(0, 2), [
    ['ID', 'KIND', 'SERVICE', 'NAMESPACE', 'ADDRESS', 'STATUS', 'LAST-SEEN', 'VERSIONS(L/R/C/E)', 'NACKS'],
    ['payments-7f3c', 'sidecar', 'payments', 'default', '127.0.0.1', 'connected', 'AGE', '2/1/2/3', '1'],
  ]);
  assert.match(r.out, /payments-7f3c refused RouteConfiguration version 2 \d+s ago: unknown cluster "x"\n$/);
  const none = await env.run((io) => runGet('proxies', undefined, { namespace: 'shop', controlPlane: env.url }, io));
  assert.equal(none.err, 'No proxies found.\n');
});

test('delete KIND NAME removes it; a missing one is an error unless --ignore-not-found', async (t) => {
  const env = await setup(t);
  const controlPlane = env.url;
  await env.run((io) => runApply({ filename: ['-'], controlPlane }, io), SERVICES);
  assert.deepEqual(await env.run((io) => runDelete(['svc', 'ledger'], { namespace: 'shop', controlPlane }, io)), { code: 0, out: 'service/ledger deleted\n', err: '' });
  const missing = await env.run((io) => runDelete(['svc', 'ledger', 'payments'], { namespace: 'shop', controlPlane }, io));
  assert.deepEqual(missing, { code: 1, out: '', err: 'error: Service shop/ledger not found\nerror: Service shop/payments not found\n' });
  const ignored = await env.run((io) => runDelete(['svc', 'ledger'], { namespace: 'shop', ignoreNotFound: true, controlPlane }, io));
  assert.deepEqual(ignored, { code: 0, out: '', err: '' });
});

test('delete -f removes what a file defines', async (t) => {
  const env = await setup(t);
  const controlPlane = env.url;
  const file = await env.file('all.yaml', `${SERVICES}---\n${ROUTE(1)}`);
  await env.run((io) => runApply({ filename: [file], controlPlane }, io));
  const r = await env.run((io) => runDelete([], { filename: [file], controlPlane }, io));
  assert.deepEqual(r, { code: 0, out: 'service/payments deleted\nservice/ledger deleted\nhttproute/payments deleted\n', err: '' });
  const bad = await env.run((io) => runDelete(['svc', 'x'], { filename: [file], controlPlane }, io));
  assert.equal(bad.err, 'error: give either KIND NAME... or -f FILE, not both\n');
});
