// The test-host library and the capture command on their own (root only): hosts reach each
// other over the bridge and nothing else; capture setup is idempotent and removed cleanly;
// a leftover of a crashed run is cleaned at the next start.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanup } from './cleanup.js';
import { describeCapture, listCapture } from '../../src/capture/index.js';
import { cleanupLeftoverLabs, HostLab, listNamespaces, run } from '../../src/netns/index.js';
import { runCli } from './harness.js';
import { requireTestHosts } from './transparent-harness.js';

test('hosts get their own namespace, an address on the bridge, loopback up, and the machine gets nothing', { timeout: 30_000 }, (t) => {
  if (!requireTestHosts(t)) return;
  const before = run(['ip', '-o', 'link']).split('\n').length;
  const lab = HostLab.create({ tag: 'h' });
  cleanup(t, () => lab.destroy());
  const a = lab.addHost('a');
  const b = lab.addHost('b');
  assert.match(lab.exec('a', ['ip', '-o', 'addr', 'show', 'dev', 'eth0']), new RegExp(`inet ${a.address.replace(/\./g, '\\.')}/24`));
  assert.match(lab.exec('a', ['ip', '-o', 'link', 'show', 'lo']), /UP/);
  // b is reachable from a over the bridge (a TCP connect via bash's /dev/tcp needs no extra tools).
  const server = lab.spawn('b', ['python3', '-c', `import socket; s=socket.socket(); s.bind(('${b.address}', 7000)); s.listen(); c,_=s.accept(); c.sendall(b'hi'); c.close()`], {
    stdio: 'ignore',
  });
  cleanup(t, () => server.kill('SIGKILL'));
  let reply = '';
  for (let i = 0; i < 50 && reply !== 'hi'; i++) {
    try {
      reply = lab.exec('a', ['python3', '-c', `import socket; s=socket.create_connection(('${b.address}', 7000), timeout=1); print(s.recv(10).decode(), end='')`]);
    } catch {
      /* not listening yet */
    }
  }
  assert.equal(reply, 'hi');
  assert.equal(run(['ip', '-o', 'link']).split('\n').length, before, "no interface was added to the machine's namespace");
  assert.deepEqual(lab.destroy(), []);
  assert.deepEqual(
    listNamespaces().filter((n) => n.startsWith(`${lab.prefix}-`)),
    [],
  );
});

test('a leftover namespace of a crashed run (its process gone) is removed at the next start', { timeout: 30_000 }, (t) => {
  if (!requireTestHosts(t)) return;
  // pid 2^22+1 is above Linux's pid_max default, so no process has it.
  const stale = `trl${4194305}-x`;
  run(['ip', 'netns', 'add', stale]);
  cleanup(t, () => {
    if (listNamespaces().includes(stale)) run(['ip', 'netns', 'del', stale]);
  });
  assert.ok(cleanupLeftoverLabs().includes(stale));
  assert.equal(listNamespaces().includes(stale), false);
});

test('trellis capture setup is idempotent and remove leaves no rule', { timeout: 90_000 }, async (t) => {
  if (!requireTestHosts(t)) return;
  const lab = HostLab.create({ tag: 'c' });
  cleanup(t, () => lab.destroy());
  const h = lab.addHost('pod');
  const args = ['capture', 'setup', '--netns', h.netns, '--exclude-inbound-ports', '22', '--exclude-outbound-cidrs', '10.96.0.0/12', '--proxy-uid', '1337'];
  const once = await runCli(args);
  assert.equal(once.code, 0, once.stderr);
  const first = describeCapture(h.netns).join('\n');
  assert.equal(once.stdout, first + '\n', 'setup prints the rules it made');
  assert.equal((await runCli(args)).code, 0);
  assert.equal(describeCapture(h.netns).join('\n'), first, 'the same rules, not twice');
  assert.match(first, /-A TRELLIS_INBOUND -p tcp -m tcp --dport 22 -j RETURN/);
  assert.match(first, /-A TRELLIS_OUTPUT -d 10\.96\.0\.0\/12 -j RETURN/);
  assert.match(first, /-A TRELLIS_OUTPUT -m owner --uid-owner 1337 -j RETURN/);
  // IPv6 is captured the same way (an app on :: must not answer around its proxy).
  const v6 = listCapture(h.netns, 6).join('\n');
  assert.match(v6, /-A TRELLIS_INBOUND -p tcp -m tcp --dport 22 -j RETURN/);
  assert.match(v6, /-A TRELLIS_INBOUND -p tcp -j REDIRECT --to-ports 15006/);
  assert.match(v6, /-A TRELLIS_OUTPUT -p tcp -j REDIRECT --to-ports 15001/);
  assert.doesNotMatch(v6, /10\.96\.0\.0/, 'an IPv4 range stays out of the IPv6 rules');
  const bad = await runCli(['capture', 'setup', '--netns', h.netns, '--exclude-outbound-cidrs', '10.0.0.0/40']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /excludeOutboundCidrs\[0\]: must be an IPv4 or IPv6 CIDR such as 10\.0\.0\.0\/8 or fd00::\/8, got "10\.0\.0\.0\/40"/);
  assert.equal(describeCapture(h.netns).join('\n'), first, 'a refused setup changes nothing');
  assert.equal((await runCli(['capture', 'remove', '--netns', h.netns])).code, 0);
  assert.equal((await runCli(['capture', 'list', '--netns', h.netns])).stdout, 'no Trellis capture rules\n');
  assert.deepEqual(listCapture(h.netns, 6), [], 'the IPv6 rules are gone too');
});

test('trellis run --transparent without a namespace says what it needs', async () => {
  const r = await runCli(['run', '--transparent', '--service', 'x', '--port', '8080', '--', 'true']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, process.getuid?.() === 0 ? /--transparent needs --netns NAME/ : /--transparent: .*root/);
});
