// The DNS responder: mesh names answered with virtual IPs, other names forwarded upstream.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { startDnsResponder, upstreamFromResolvConf } from './dns-responder.js';

async function fakeUpstream(t: { after(fn: () => void): void }): Promise<number> {
  const s = dgram.createSocket('udp4');
  s.on('message', (msg, r) => {
    const q = dnsPacket.decode(msg);
    const name = q.questions![0]!.name;
    const answers: dnsPacket.Answer[] = name === 'example.test' && q.questions![0]!.type === 'A' ? [{ type: 'A', name, ttl: 60, data: '192.0.2.7' }] : [];
    s.send(dnsPacket.encode({ type: 'response', id: q.id, flags: answers.length ? 0 : 3, questions: q.questions, answers }), r.port, r.address);
  });
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  t.after(() => s.close());
  return s.address().port;
}

test('mesh names get the virtual IP, AAAA of them no records, other names the upstream answer', async (t) => {
  const upstreamPort = await fakeUpstream(t);
  const names = new Map([
    ['payments.mesh', '240.240.0.10'],
    ['payments.default.svc', '240.240.0.10'],
  ]);
  const dns = await startDnsResponder({ port: 0, names: () => names, upstream: { address: '127.0.0.1', port: upstreamPort } });
  t.after(() => dns.close());
  const r = new Resolver({ timeout: 2000, tries: 1 });
  r.setServers([`127.0.0.1:${dns.port}`]);
  assert.deepEqual(await r.resolve4('payments.mesh'), ['240.240.0.10']);
  assert.deepEqual(await r.resolve4('PAYMENTS.default.svc'), ['240.240.0.10']);
  await assert.rejects(r.resolve6('payments.mesh'), (e: NodeJS.ErrnoException) => e.code === 'ENODATA');
  assert.deepEqual(await r.resolve4('example.test'), ['192.0.2.7']);
  await assert.rejects(r.resolve4('missing.test'), (e: NodeJS.ErrnoException) => e.code === 'ENOTFOUND');
});

test('the upstream resolver is the first nameserver of resolv.conf', () => {
  assert.deepEqual(upstreamFromResolvConf('# x\nsearch a.b\nnameserver 10.211.0.1\nnameserver 10.0.0.2\n'), { address: '10.211.0.1', port: 53 });
  assert.equal(upstreamFromResolvConf('search only\n'), undefined);
});
