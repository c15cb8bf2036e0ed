// `trellis bootstrap --grpc` against the real control plane: the agent authenticates with its
// join token, gets its service's certificate onto disk, shows in the proxies as kind grpc, is
// refused with the control plane's reason when the token is another service's, and leaves no
// key behind when it stops. (What the app's xDS client gets is tested with the translator.)
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { test } from 'node:test';
import tls from 'node:tls';
import { exited } from '../../src/common/child-process.js';
import { freePorts } from '../../src/common/free-port.js';
import { waitFor } from '../../src/common/wait.js';
import { splitPem, uriSans } from '../../src/common/x509.js';
import { api, createJoinToken, runCli, startControlPlane, startProcess } from './harness.js';
import { cleanup } from './cleanup.js';

const READY = /trellis bootstrap: node (\S+) of payments\.default ready; set GRPC_XDS_BOOTSTRAP=(\S+)/;

test('the agent gets its own service identity on disk, registers as kind grpc, and removes its key on exit', { timeout: 180_000 }, async (t) => {
  const cp = await startControlPlane(t);
  const { token } = await createJoinToken(cp, 'payments');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-agent-'));
  cleanup(t, () => rmSync(dir, { recursive: true, force: true }));
  const [port] = await freePorts(1);
  const agent = startProcess(t, ['bootstrap', '--grpc', '--service', 'payments', '--port', String(port), '--dir', dir, '--xds-address', cp.xdsAddress], {
    TRELLIS_JOIN_TOKEN: token,
    TRELLIS_CA_FILE: cp.caFile,
  });
  await waitFor(async () => READY.test(agent.output()), "the agent's ready line", 60_000, 100).catch((e: Error) => {
    throw new Error(`${e.message}; output: ${agent.output()}`);
  });
  const [, nodeId, bootstrap] = READY.exec(agent.output())!;
  assert.equal(bootstrap, path.join(dir, 'bootstrap.json'));
  assert.doesNotMatch(readFileSync(bootstrap, 'utf8'), new RegExp(token.split('.').pop()!), 'the bootstrap holds no token');

  // The certificate is this service's and chains to the mesh roots written beside it.
  const workload = readFileSync(path.join(dir, 'certs', 'workload.pem'), 'utf8');
  assert.equal(statSync(path.join(dir, 'certs', 'workload.pem')).mode & 0o777, 0o600);
  const chain = splitPem(workload).map((p) => new X509Certificate(p));
  assert.match(workload, /-----BEGIN PRIVATE KEY-----/);
  const leaf = chain[0]!;
  assert.deepEqual(uriSans(leaf.subjectAltName), ['spiffe://trellis.local/ns/default/sa/payments']);
  const roots = splitPem(readFileSync(path.join(dir, 'certs', 'roots.pem'), 'utf8')).map((p) => new X509Certificate(p));
  let cert = leaf;
  for (const next of [...chain.slice(1), ...roots]) {
    if (cert.checkIssued(next) && cert.verify(next.publicKey)) cert = next;
  }
  assert.ok(roots.some((r) => r.fingerprint256 === cert.fingerprint256) && cert.ca, 'the chain ends at a root of roots.pem');

  // The control plane lists the node with its kind.
  const proxies = await api(cp, 'GET', '/api/v1/proxies');
  const mine = proxies.body.items.find((p: { id: string }) => p.id === nodeId);
  assert.ok(mine, `node ${nodeId} in ${JSON.stringify(proxies.body.items)}`);
  assert.equal(mine.kind, 'grpc');
  assert.equal(mine.service, 'payments');
  assert.equal(mine.connected, true);
  // No app listens on its port: the endpoint is not ready (callers do not get it).
  assert.equal(mine.readiness, 'not-ready');
  // With no app subscribed, it asks for nothing but its secrets: nothing is out of sync.
  const check = await runCli(['check'], cp.cliEnv);
  assert.match(check.stdout, /\[ok\] +proxies in sync/, check.stdout + check.stderr);
  const table = await runCli(['get', 'proxies'], cp.cliEnv);
  assert.match(table.stdout, new RegExp(`^${nodeId!.replace(/[.~]/g, '\\$&')} +grpc +payments +default`, 'm'), table.stdout);

  await agent.stop('SIGTERM');
  assert.equal(agent.child.exitCode, 0, agent.output());
  assert.equal(existsSync(path.join(dir, 'certs', 'workload.pem')), false, 'the key file is gone');
  assert.equal(existsSync(path.join(dir, 'xds.sock')), false);
  assert.equal(existsSync(bootstrap), true, 'an explicit --dir is kept');
});

test("a join token for another service is refused with the control plane's reason, and nothing is left on disk", { timeout: 180_000 }, async (t) => {
  const cp = await startControlPlane(t);
  const { token } = await createJoinToken(cp, 'web');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'trellis-agent-tmp-'));
  cleanup(t, () => rmSync(tmp, { recursive: true, force: true }));
  const agent = startProcess(t, ['bootstrap', '--grpc', '--service', 'payments', '--port', '50051', '--xds-address', cp.xdsAddress], {
    TRELLIS_JOIN_TOKEN: token,
    TRELLIS_CA_FILE: cp.caFile,
    TMPDIR: tmp,
  });
  const code = await exited(agent.child);
  assert.equal(code, 1, agent.output());
  assert.match(
    agent.output(),
    /refused the agent: PERMISSION_DENIED: \[XDS_IDENTITY_MISMATCH\] .*join token \S+ is for service web in namespace default; it cannot obtain the identity of service payments/,
  );
  assert.deepEqual(
    readdirSync(tmp).filter((f) => f.startsWith('trellis-grpc-')),
    [],
    'the default directory is removed',
  );
});

test('an unknown token, an unreachable control plane and an unwritable directory each get a clear message', { timeout: 180_000 }, async (t) => {
  const cp = await startControlPlane(t);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'trellis-agent-tmp-'));
  cleanup(t, () => rmSync(tmp, { recursive: true, force: true }));
  const base = ['bootstrap', '--grpc', '--service', 'payments'];
  const env = { TRELLIS_CA_FILE: cp.caFile, TMPDIR: tmp };

  const unknown = startProcess(t, [...base, '--xds-address', cp.xdsAddress], { ...env, TRELLIS_JOIN_TOKEN: 'trellis-join.000000000000.nosuchtokennosuchtoken' });
  assert.equal(await exited(unknown.child), 1, unknown.output());
  assert.match(unknown.output(), /refused the agent: UNAUTHENTICATED: \[XDS_UNAUTHENTICATED\]/);

  const { token } = await createJoinToken(cp, 'payments');
  const [closed] = await freePorts(1);
  const waiting = startProcess(t, [...base, '--xds-address', `127.0.0.1:${closed}`], { ...env, TRELLIS_JOIN_TOKEN: token });
  await waitFor(
    async () => /cannot reach the control plane at 127\.0\.0\.1:\d+ \(UNAVAILABLE: .*\); retrying/.test(waiting.output()),
    'the agent saying it retries',
    20_000,
    100,
  ).catch((e: Error) => {
    throw new Error(`${e.message}; output: ${waiting.output()}`);
  });
  assert.equal(waiting.child.exitCode, null, 'it keeps retrying');
  await waiting.stop('SIGTERM');

  const file = path.join(tmp, 'a-file');
  writeFileSync(file, '');
  const unwritable = startProcess(t, [...base, '--dir', path.join(file, 'sub'), '--xds-address', cp.xdsAddress], { ...env, TRELLIS_JOIN_TOKEN: token });
  assert.equal(await exited(unwritable.child), 1, unwritable.output());
  assert.match(unwritable.output(), /trellis: cannot write the agent's directory \S+\/a-file\/sub: ENOTDIR/);
  assert.deepEqual(
    readdirSync(tmp).filter((f) => f.startsWith('trellis-grpc-')),
    [],
    'nothing left behind',
  );
});

/** An app that records what it was given, listens on $APP_PORT, and notes the signal that stops it. */
const RECORDING_APP = `
const fs = require('node:fs');
const out = process.env.RECORD;
fs.writeFileSync(out, JSON.stringify({ bootstrap: process.env.GRPC_XDS_BOOTSTRAP, token: process.env.TRELLIS_JOIN_TOKEN ?? null, certs: fs.existsSync(require('node:path').join(process.env.GRPC_XDS_BOOTSTRAP, '..', 'certs', 'workload.pem')) }) + '\\n');
require('node:net').createServer(() => {}).listen(Number(process.env.APP_PORT), '127.0.0.1');
process.on('SIGTERM', () => { fs.appendFileSync(out, 'SIGTERM\\n'); process.exit(0); });
`;

test(
  'with an app after --: it starts once the certificates are on disk, without the token; its endpoint turns ready when it listens, draining on SIGTERM; its exit code is the command’s',
  { timeout: 180_000 },
  async (t) => {
    const cp = await startControlPlane(t);
    const { token } = await createJoinToken(cp, 'payments');
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'trellis-agent-tmp-'));
    cleanup(t, () => rmSync(tmp, { recursive: true, force: true }));
    const record = path.join(tmp, 'record.txt');
    const [port] = await freePorts(1);
    const env = { TRELLIS_JOIN_TOKEN: token, TRELLIS_CA_FILE: cp.caFile, TMPDIR: tmp, RECORD: record, APP_PORT: String(port) };
    const args = [
      'bootstrap',
      '--grpc',
      '--service',
      'payments',
      '--port',
      String(port),
      '--xds-address',
      cp.xdsAddress,
      '--readiness-period-ms',
      '200',
      '--drain-delay-ms',
      '3000',
    ];
    const agent = startProcess(t, [...args, '--', process.execPath, '-e', RECORDING_APP], env);
    const nodeId = `grpc~127.0.0.1:${port}~payments.default`;
    const readiness = async () => ((await api(cp, 'GET', '/api/v1/proxies')).body.items.find((p: { id: string }) => p.id === nodeId)?.readiness as string | undefined) ?? 'absent';
    await waitFor(async () => (await readiness()) === 'ready', 'the endpoint ready once the app listens', 60_000, 100).catch((e: Error) => {
      throw new Error(`${e.message}; output: ${agent.output()}`);
    });
    const given = JSON.parse(readFileSync(record, 'utf8').split('\n')[0]!);
    assert.match(given.bootstrap, new RegExp(`^${tmp}/trellis-grpc-payments-.*/bootstrap\\.json$`));
    assert.equal(given.token, null, 'the app does not get the join token');
    assert.equal(given.certs, true, 'the certificates were on disk before the app started');

    process.kill(agent.child.pid!, 'SIGTERM');
    await waitFor(async () => (await readiness()) === 'draining', 'the endpoint draining', 10_000, 50);
    assert.doesNotMatch(readFileSync(record, 'utf8'), /SIGTERM/, 'the app still runs during the drain delay');
    assert.equal(await exited(agent.child), 0, agent.output());
    assert.match(readFileSync(record, 'utf8'), /SIGTERM/);
    assert.deepEqual(
      readdirSync(tmp).filter((f) => f.startsWith('trellis-grpc-')),
      [],
      'the directory it made is gone',
    );

    const failing = startProcess(t, [...args, '--', process.execPath, '-e', 'process.exit(7)'], env);
    assert.equal(await exited(failing.child), 7, failing.output());
  },
);

test('the files follow renewals at half-life and a root rotation; certificate and key on disk always match', { timeout: 180_000 }, async (t) => {
  const cp = await startControlPlane(t, undefined, ['--cert-ttl', '4s']);
  const { token } = await createJoinToken(cp, 'payments');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-agent-'));
  cleanup(t, () => rmSync(dir, { recursive: true, force: true }));
  const agent = startProcess(t, ['bootstrap', '--grpc', '--service', 'payments', '--dir', dir, '--xds-address', cp.xdsAddress], {
    TRELLIS_JOIN_TOKEN: token,
    TRELLIS_CA_FILE: cp.caFile,
  });
  await waitFor(async () => READY.test(agent.output()), "the agent's ready line", 60_000, 100).catch((e: Error) => {
    throw new Error(`${e.message}; output: ${agent.output()}`);
  });
  const workloadFile = path.join(dir, 'certs', 'workload.pem');
  const rootsFile = path.join(dir, 'certs', 'roots.pem');
  // Read as gRPC's file watcher does (the same file as certificate and key), over and over while it rotates.
  const keys = new Set<string>();
  const serials = new Set<string>();
  const deadline = Date.now() + 9000;
  while (Date.now() < deadline) {
    const pem = readFileSync(workloadFile);
    assert.doesNotThrow(() => tls.createSecureContext({ cert: pem, key: pem, ca: readFileSync(rootsFile) }), 'a certificate with another rotation’s key');
    keys.add(/-----BEGIN PRIVATE KEY-----[^-]+/.exec(pem.toString())![0]);
    serials.add(new X509Certificate(pem).serialNumber);
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(serials.size >= 3 && keys.size >= 3, `renewed at least twice with new keys: ${serials.size} certificates, ${keys.size} keys`);

  const rotated = await api(cp, 'POST', '/api/v1/ca/rotate', { overlap: '1h' });
  assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
  const newRoot = rotated.body.roots[0].sha256 as string;
  const fingerprint = (c: X509Certificate) => c.fingerprint256.replace(/:/g, '').toLowerCase();
  await waitFor(
    async () => {
      const roots = splitPem(readFileSync(rootsFile, 'utf8')).map((p) => new X509Certificate(p));
      const leaf = new X509Certificate(readFileSync(workloadFile));
      const root = roots.find((r) => fingerprint(r) === newRoot.replace(/:/g, '').toLowerCase());
      return roots.length === 2 && root !== undefined && leaf.checkIssued(root) && leaf.verify(root.publicKey);
    },
    'both roots on disk and a certificate from the new one',
    20_000,
    100,
  );
});

test(
  "two proxyless apps call each other over mTLS with gRPC's own file_watcher provider reading the agents' files, each seeing the other's SPIFFE identity",
  { timeout: 180_000 },
  async (t) => {
    const cp = await startControlPlane(t);
    const dirs = ['payments', 'web'].map(() => mkdtempSync(path.join(os.tmpdir(), 'trellis-agent-')));
    cleanup(t, () => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
    const [port] = await freePorts(1);
    const agents = await Promise.all(
      ['payments', 'web'].map(async (service, i) => {
        const { token } = await createJoinToken(cp, service);
        const ports = service === 'payments' ? ['--port', String(port)] : [];
        const agent = startProcess(t, ['bootstrap', '--grpc', '--service', service, ...ports, '--dir', dirs[i]!, '--xds-address', cp.xdsAddress], {
          TRELLIS_JOIN_TOKEN: token,
          TRELLIS_CA_FILE: cp.caFile,
        });
        await waitFor(async () => /ready; set GRPC_XDS_BOOTSTRAP=/.test(agent.output()), `the ${service} agent ready`, 60_000, 100).catch((e: Error) => {
          throw new Error(`${e.message}; output: ${agent.output()}`);
        });
        return agent;
      }),
    );
    assert.equal(agents.length, 2);
    // What the app does with its bootstrap's certificate provider (grpc-js's file watcher on the agent's files).
    const provider = (dir: string) => {
      const bootstrap = JSON.parse(readFileSync(path.join(dir, 'bootstrap.json'), 'utf8'));
      const c = bootstrap.certificate_providers.trellis.config;
      return new grpc.experimental.FileWatcherCertificateProvider({
        certificateFile: c.certificate_file,
        privateKeyFile: c.private_key_file,
        caCertificateFile: c.ca_certificate_file,
        refreshIntervalMs: 5000,
      });
    };
    const [serverCerts, clientCerts] = dirs.map(provider);
    const raw = (b: Buffer) => b;
    const method = {
      path: '/test.Who/Am',
      requestStream: false,
      responseStream: false,
      requestSerialize: raw,
      requestDeserialize: raw,
      responseSerialize: raw,
      responseDeserialize: raw,
    };
    const server = new grpc.Server();
    server.addService(
      { Am: method },
      {
        Am: (call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) =>
          done(null, Buffer.from(uriSans(call.getAuthContext().sslPeerCertificate?.subjectaltname).join(','))),
      },
    );
    await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, grpc.experimental.createCertificateProviderServerCredentials(serverCerts!, serverCerts!, true), (e, p) => (e ? reject(e) : resolve(p))),
    );
    cleanup(t, () => server.forceShutdown());
    let serverId: string | undefined;
    const credentials = grpc.experimental.createCertificateProviderChannelCredentials(clientCerts!, clientCerts!, {
      // Mesh certificates name a SPIFFE ID, not a host: check that instead.
      checkServerIdentity: (_host, cert) => {
        serverId = uriSans(cert.subjectaltname)[0];
        return serverId === 'spiffe://trellis.local/ns/default/sa/payments' ? undefined : new Error(`unexpected server identity ${serverId}`);
      },
    });
    const client = new grpc.Client(`127.0.0.1:${port}`, credentials);
    cleanup(t, () => client.close());
    const answer = await new Promise<string>((resolve, reject) =>
      client.makeUnaryRequest(method.path, raw, raw, Buffer.from('hi'), { deadline: Date.now() + 20_000 }, (e, r) => (e ? reject(e) : resolve(r!.toString()))),
    );
    assert.equal(answer, 'spiffe://trellis.local/ns/default/sa/web', 'the server saw the client’s identity');
    assert.equal(serverId, 'spiffe://trellis.local/ns/default/sa/payments');
  },
);
