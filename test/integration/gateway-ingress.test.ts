// Issue 15, the ingress gateway: `trellis gateway` in front of two services with sidecars, from
// outside clients (curl, openssl s_client): HTTP routed by host name and path, HTTPS with the
// certificate of each SNI name and the first listener's for clients without SNI, HTTP→HTTPS
// redirect, h2 over TLS (ALPN), the gateway calling a backend as its own mesh identity that an
// AuthorizationPolicy names, and the sidecar's hostile-input bounds held at the gateway.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { waitFor } from '../../src/common/wait.js';
import { freePorts } from '../../src/common/free-port.js';
import { api as restApi, applyResources, get, httpService, startControlPlane, startWorkload } from './harness.js';
import { curl, gatewayClass, gatewayDoc, makeCert, routeDoc, servedCertificate, startGateway, tlsSecret } from './gateway-harness.js';

const served = (body: string): string | undefined => {
  try {
    return (JSON.parse(body) as { service?: string }).service;
  } catch {
    return undefined;
  }
};

test(
  'an ingress gateway routes HTTP and HTTPS by host name and path, picks the certificate by SNI, redirects to HTTPS, speaks h2 and holds the sidecar bounds',
  { timeout: 300_000 },
  async (t) => {
    const cp = await startControlPlane(t);
    const shopCert = makeCert(t, ['shop.example.com']);
    const apiCert = makeCert(t, ['api.example.com']);
    const [httpPort, httpsPort] = await freePorts(2);
    await applyResources(cp, [
      httpService('shop'),
      httpService('api'),
      httpService('client'),
      gatewayClass,
      tlsSecret('shop-cert', shopCert),
      tlsSecret('api-cert', apiCert),
      gatewayDoc('edge', [
        { name: 'http', port: httpPort, protocol: 'HTTP' },
        { name: 'shop', port: httpsPort, protocol: 'HTTPS', hostname: 'shop.example.com', tls: { certificateRefs: [{ name: 'shop-cert' }] } },
        { name: 'api', port: httpsPort, protocol: 'HTTPS', hostname: 'api.example.com', tls: { certificateRefs: [{ name: 'api-cert' }] } },
      ]),
      routeDoc('shop', {
        parentRefs: [
          { kind: 'Gateway', name: 'edge', sectionName: 'shop' },
          { kind: 'Gateway', name: 'edge', sectionName: 'http' },
        ],
        hostnames: ['shop.example.com'],
        rules: [{ backendRefs: [{ name: 'shop', port: 8080 }] }],
      }),
      routeDoc('api', {
        parentRefs: [{ kind: 'Gateway', name: 'edge', sectionName: 'api' }],
        hostnames: ['api.example.com'],
        rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/v1' } }], backendRefs: [{ name: 'api', port: 8080 }] }],
      }),
      routeDoc('to-https', {
        parentRefs: [{ kind: 'Gateway', name: 'edge', sectionName: 'http' }],
        hostnames: ['www.example.com'],
        rules: [{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', port: httpsPort, statusCode: 301 } }] }],
      }),
    ]);
    await startWorkload(t, cp, { service: 'shop' });
    await startWorkload(t, cp, { service: 'api' });
    const client = await startWorkload(t, cp, { service: 'client', upstreams: ['shop:8080'] });
    const gw = await startGateway(t, cp, 'edge');

    const shopHttp = `http://shop.example.com:${httpPort}/cart`;
    await waitFor(async () => (await curl(shopHttp)).status === 200, `HTTP through the gateway; gateway output: ${gw.output()}`, 30_000);

    await t.test('HTTP is routed by host name; a host no route names is 404', async () => {
      const r = await curl(shopHttp);
      assert.equal(served(r.body), 'shop');
      assert.equal((JSON.parse(r.body) as { path: string }).path, '/cart');
      assert.equal((await curl(`http://nobody.example.com:${httpPort}/`)).status, 404);
    });

    await t.test('HTTPS: each SNI name gets its own certificate, verified by curl; a client without SNI gets the first listener’s', async () => {
      const shop = await curl(`https://shop.example.com:${httpsPort}/`, ['--cacert', shopCert.certFile]);
      assert.equal(shop.status, 200, `${shop.stderr}; proxies: ${JSON.stringify((await restApi(cp, 'GET', '/api/v1/proxies')).body)}; gateway: ${gw.output()}`);
      assert.equal(served(shop.body), 'shop');
      const api = await curl(`https://api.example.com:${httpsPort}/v1/items`, ['--cacert', apiCert.certFile]);
      assert.equal(api.status, 200, api.stderr);
      assert.equal(served(api.body), 'api');
      assert.equal((await curl(`https://api.example.com:${httpsPort}/v2`, ['--cacert', apiCert.certFile])).status, 404, 'only /v1 is routed');
      assert.match(await servedCertificate(httpsPort!, 'shop.example.com'), /CN ?= ?shop\.example\.com[\s\S]*DNS:shop\.example\.com/);
      assert.match(await servedCertificate(httpsPort!, 'api.example.com'), /CN ?= ?api\.example\.com/);
      assert.match(await servedCertificate(httpsPort!, undefined), /CN ?= ?shop\.example\.com/);
    });

    await t.test('a RequestRedirect to https answers 301 with the https Location', async () => {
      const r = await curl(`http://www.example.com:${httpPort}/a/b?c=1`);
      assert.equal(r.status, 301);
      assert.match(r.headers, new RegExp(`^location: https://www\\.example\\.com:${httpsPort}/a/b\\?c=1\\r?$`, 'im'));
    });

    await t.test('h2 over TLS through the gateway (ALPN)', async () => {
      const r = await curl(`https://shop.example.com:${httpsPort}/h2`, ['--http2', '--cacert', shopCert.certFile]);
      assert.match(r.headers, /^HTTP\/2 200/);
      assert.equal(served(r.body), 'shop');
    });

    await t.test('an AuthorizationPolicy that allows only the gateway’s identity: another sidecar gets 403, the gateway 200', async () => {
      await applyResources(cp, [
        {
          apiVersion: 'trellis.dev/v1alpha1',
          kind: 'AuthorizationPolicy',
          metadata: { name: 'only-edge', namespace: 'default' },
          spec: { targetRef: { kind: 'Service', name: 'shop' }, action: 'ALLOW', rules: [{ from: [{ serviceAccounts: ['edge'] }] }] },
        },
      ]);
      const direct = `http://127.0.0.1:${client.upstreamPorts['shop:8080']}/`;
      await waitFor(async () => (await get(direct)).status === 403, 'the policy to refuse the client sidecar', 15_000);
      assert.equal((await curl(shopHttp)).status, 200);
    });

    await t.test('hostile input: a request head sent slowly is cut off at the header timeout (408), one with too many headers is 431', async () => {
      const headers = Array.from({ length: 150 }, (_, i) => ['-H', `x-h${i}: ${i}`]).flat();
      const many = await curl(shopHttp, headers);
      assert.equal(many.status, 431);
      const socket = net.connect(httpPort!, '127.0.0.1');
      let received = '';
      socket.on('data', (c) => (received += c.toString()));
      socket.on('error', () => {});
      t.after(() => socket.destroy());
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      const head = 'GET /slow HTTP/1.1\r\nHost: shop.example.com\r\nX-Padding: ' + 'a'.repeat(100);
      const started = Date.now();
      let stop = false;
      void (async () => {
        for (let i = 0; i < head.length && !stop; i++) {
          socket.write(head[i]!);
          await new Promise((r) => setTimeout(r, 300));
        }
      })();
      await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('not closed within 25 s')), 25_000))]);
      stop = true;
      assert.match(received, /^HTTP\/1\.1 408 /);
      assert.ok(Date.now() - started >= 9_000, 'not before the 10 s header timeout');
    });
  },
);
