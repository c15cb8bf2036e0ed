// The capture rules as argument lists: order, exemptions, exclusions, and refused settings.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chainNames, chainRules, checkCaptureSpec, jumpRules, type CaptureSpec } from './capture-rules.js';

const spec: CaptureSpec = {
  inboundPort: 15006,
  outboundPort: 15001,
  dnsPort: 15053,
  proxyUids: [],
  proxyGids: [1337],
  excludeInboundPorts: [22],
  excludeOutboundPorts: [5432],
  excludeOutboundCidrs: ['10.96.0.0/12', 'fd00:96::/64'],
};
const lines = (rules: string[][]) => rules.map((r) => r.join(' '));

test('exemptions come before the redirect, in the order the kernel must see them', () => {
  assert.deepEqual(lines(chainRules(spec)), [
    'TRELLIS_INBOUND -p tcp --dport 22 -j RETURN',
    'TRELLIS_INBOUND -p tcp -j REDIRECT --to-ports 15006',
    'TRELLIS_OUTPUT -m owner --gid-owner 1337 -j RETURN',
    'TRELLIS_OUTPUT -o lo -j RETURN',
    'TRELLIS_OUTPUT -d 10.96.0.0/12 -j RETURN',
    'TRELLIS_OUTPUT -p tcp --dport 5432 -j RETURN',
    'TRELLIS_OUTPUT -p tcp -j REDIRECT --to-ports 15001',
    'TRELLIS_DNS -m owner --gid-owner 1337 -j RETURN',
    'TRELLIS_DNS -p udp --dport 53 -j REDIRECT --to-ports 15053',
  ]);
  assert.deepEqual(lines(jumpRules(spec)), ['PREROUTING -p tcp -j TRELLIS_INBOUND', 'OUTPUT -p tcp -j TRELLIS_OUTPUT', 'OUTPUT -p udp --dport 53 -j TRELLIS_DNS']);
});

test('without a DNS port, DNS is left alone', () => {
  const { dnsPort: _, ...noDns } = spec;
  assert.equal(
    lines(chainRules(noDns)).some((l) => l.includes('TRELLIS_DNS')),
    false,
  );
  assert.equal(jumpRules(noDns).length, 2);
  assert.deepEqual(checkCaptureSpec(spec), []);
});

test('settings that would break capture are refused, each named', () => {
  assert.deepEqual(checkCaptureSpec({ ...spec, proxyGids: [], outboundPort: 15006, excludeOutboundCidrs: ['10.0.0.0'], excludeInboundPorts: [0] }), [
    'inboundPort and outboundPort must differ, both are 15006',
    'excludeInboundPorts[0]: must be an integer from 1 to 65535, got 0',
    'proxyUids, proxyGids: at least one is required, or the proxy would capture its own traffic',
    'excludeOutboundCidrs[0]: must be an IPv4 or IPv6 CIDR such as 10.0.0.0/8 or fd00::/8, got "10.0.0.0"',
  ]);
  assert.deepEqual(checkCaptureSpec({ ...spec, excludeOutboundCidrs: ['10.0.0.0/33', 'fd00::/129', 'fd00::/x', '::/0'] }), [
    'excludeOutboundCidrs[0]: must be an IPv4 or IPv6 CIDR such as 10.0.0.0/8 or fd00::/8, got "10.0.0.0/33"',
    'excludeOutboundCidrs[1]: must be an IPv4 or IPv6 CIDR such as 10.0.0.0/8 or fd00::/8, got "fd00::/129"',
    'excludeOutboundCidrs[2]: must be an IPv4 or IPv6 CIDR such as 10.0.0.0/8 or fd00::/8, got "fd00::/x"',
  ]);
});

// Regression (issue 10, item 3): an app listening on :: answered plaintext over IPv6 around its proxy.
test('IPv6 (ip6tables) captures inbound and outbound TCP like IPv4, with the same exemptions and exclusions', () => {
  assert.deepEqual(lines(chainRules(spec, 6)), [
    'TRELLIS_INBOUND -p tcp --dport 22 -j RETURN',
    'TRELLIS_INBOUND -p tcp -j REDIRECT --to-ports 15006',
    'TRELLIS_OUTPUT -m owner --gid-owner 1337 -j RETURN',
    'TRELLIS_OUTPUT -o lo -j RETURN',
    'TRELLIS_OUTPUT -d fd00:96::/64 -j RETURN',
    'TRELLIS_OUTPUT -p tcp --dport 5432 -j RETURN',
    'TRELLIS_OUTPUT -p tcp -j REDIRECT --to-ports 15001',
  ]);
  assert.deepEqual(lines(jumpRules(spec, 6)), ['PREROUTING -p tcp -j TRELLIS_INBOUND', 'OUTPUT -p tcp -j TRELLIS_OUTPUT']);
  // Each range goes to its own family's rules only.
  assert.equal(
    lines(chainRules(spec, 4)).some((l) => l.includes('fd00:96::')),
    false,
  );
  assert.deepEqual(chainNames(spec, 6), ['TRELLIS_INBOUND', 'TRELLIS_OUTPUT'], 'DNS is not redirected over IPv6: the responder is on 127.0.0.1');
  assert.deepEqual(chainNames(spec, 4), ['TRELLIS_INBOUND', 'TRELLIS_OUTPUT', 'TRELLIS_DNS']);
});

test('every excluded inbound port is exempt before the redirect, in both families', () => {
  const many = { ...spec, excludeInboundPorts: [22, 15090, 8443] };
  for (const family of [4, 6] as const) {
    const inbound = lines(chainRules(many, family)).filter((l) => l.startsWith('TRELLIS_INBOUND'));
    assert.deepEqual(
      inbound,
      [
        'TRELLIS_INBOUND -p tcp --dport 22 -j RETURN',
        'TRELLIS_INBOUND -p tcp --dport 15090 -j RETURN',
        'TRELLIS_INBOUND -p tcp --dport 8443 -j RETURN',
        'TRELLIS_INBOUND -p tcp -j REDIRECT --to-ports 15006',
      ],
      `family ${family}`,
    );
  }
});
