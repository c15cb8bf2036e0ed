// Filter chain choice on captured connections: port, then range, then transport, then application protocol.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CaptureChain, CaptureListenerConfig } from '../config/runtime-config.js';
import { ChainSelector } from './chain-selector.js';

const tcp = (name: string, match: Partial<CaptureChain['match']>): CaptureChain => ({
  name,
  match: { prefixes: [], appProtocols: [], ...match },
  action: { kind: 'tcp', clusters: [{ cluster: name, weight: 1 }] },
});
const vip = (ip: string, len = 32) => [{ address: ip, prefixLength: len }];

const listener: CaptureListenerConfig = {
  name: 'virtualOutbound',
  direction: 'outbound',
  address: '0.0.0.0',
  port: 15001,
  protocol: 'capture',
  detectionTimeoutMs: 100,
  chains: [
    tcp('pay-http', { prefixes: vip('240.240.0.10'), port: 8080, appProtocols: ['http/1.1', 'h2c'] }),
    tcp('pay-tcp', { prefixes: vip('240.240.0.10'), port: 8080 }),
    tcp('db', { prefixes: vip('240.240.0.11'), port: 5432 }),
    tcp('subnet', { prefixes: vip('10.1.0.0', 16), port: 5432 }),
    tcp('tls-any', { prefixes: vip('10.1.2.0', 24), port: 5432, transport: 'tls' }),
    tcp('any-port', { prefixes: vip('10.9.9.9') }),
  ],
  defaultChain: tcp('passthrough', {}),
};
const sel = new ChainSelector(listener);
const name = (c: CaptureChain | undefined) => c?.name;

test('a VIP and port with HTTP and opaque chains needs detection, and detection picks', () => {
  const c = sel.candidates('240.240.0.10', 8080);
  assert.deepEqual(
    c.map((x) => x.name),
    ['pay-http', 'pay-tcp'],
  );
  assert.equal(ChainSelector.needsDetection(c), true);
  assert.equal(name(sel.pick(c, 'http/1.1')), 'pay-http');
  assert.equal(name(sel.pick(c, 'h2c')), 'pay-http');
  assert.equal(name(sel.pick(c, 'opaque')), 'pay-tcp');
  assert.equal(name(sel.pick(c, 'tls')), 'pay-tcp');
});

test('a declared opaque destination needs no detection', () => {
  const c = sel.candidates('240.240.0.11', 5432);
  assert.equal(ChainSelector.needsDetection(c), false);
  assert.equal(name(sel.pick(c)), 'db');
});

test('the most specific range wins, then transport', () => {
  assert.equal(name(sel.pick(sel.candidates('10.1.7.7', 5432))), 'subnet');
  const c = sel.candidates('10.1.2.3', 5432);
  assert.deepEqual(
    c.map((x) => x.name),
    ['tls-any'],
  );
  assert.equal(name(sel.pick(c, 'tls')), 'tls-any');
  assert.equal(name(sel.pick(c, 'opaque')), 'passthrough', 'no chain for raw bytes there: the default chain');
});

test('chains without a port match when no chain has the port; unknown destinations get the default chain', () => {
  assert.equal(name(sel.pick(sel.candidates('10.9.9.9', 1234))), 'any-port');
  assert.equal(name(sel.pick(sel.candidates('240.240.0.10', 9999))), 'passthrough');
  assert.equal(name(sel.pick(sel.candidates('192.0.2.1', 8080))), 'passthrough');
});

test("on TLS the ClientHello's ALPN is the application protocol; without one that matches, the chain without any", () => {
  const mtls: CaptureListenerConfig = {
    ...listener,
    chains: [
      tcp('mtls-http', { port: 8080, transport: 'tls', appProtocols: ['h2', 'http/1.1'] }),
      tcp('mtls', { port: 8080, transport: 'tls' }),
      tcp('plain', { port: 8080, transport: 'raw_buffer' }),
    ],
  };
  const s = new ChainSelector(mtls);
  const c = s.candidates('10.0.0.7', 8080);
  assert.equal(name(s.pick(c, 'tls', ['http/1.1'])), 'mtls-http');
  assert.equal(name(s.pick(c, 'tls', ['h2', 'http/1.1'])), 'mtls-http');
  assert.equal(name(s.pick(c, 'tls', [])), 'mtls', 'no ALPN: opaque');
  assert.equal(name(s.pick(c, 'tls', ['imap'])), 'mtls');
  assert.equal(name(s.pick(c, 'http/1.1')), 'plain');
});
