// Under `trellis run` the proxy's access log stays out of the app's stdout (issue 14): by default
// it goes to stderr, and `--access-log-file` (passed on to the proxy) sends it to a file.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { waitFor } from '../../src/common/wait.js';
import { cleanup } from './cleanup.js';
import { applyResources, get, httpService, permissive, startControlPlane, startWorkload } from './harness.js';

const MESH_WITH_ACCESS_LOG = { apiVersion: 'trellis.dev/v1alpha1', kind: 'MeshConfig', metadata: { name: 'default' }, spec: { accessLog: { enabled: true } } };
/** An app that prints a line to its stdout for each request it serves. */
const PRINTING_APP = [
  process.execPath,
  '-e',
  "require('node:http').createServer((req, res) => { console.log('app served ' + req.url); res.end('ok'); }).listen(Number(process.env.PORT), '127.0.0.1')",
];

test('trellis run: access log lines on stderr by default, in --access-log-file when given; never on the app stdout', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-access-log-'));
  cleanup(t, () => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'access.log');
  const cp = await startControlPlane(t);
  await applyResources(cp, [permissive(httpService('web')), permissive(httpService('api')), MESH_WITH_ACCESS_LOG]);
  const web = await startWorkload(t, cp, { service: 'web', app: PRINTING_APP });
  const api = await startWorkload(t, cp, { service: 'api', runArgs: ['--access-log-file', file] });
  let webStdout = '';
  let webStderr = '';
  web.child.stdout!.on('data', (c: Buffer) => (webStdout += c.toString()));
  web.child.stderr!.on('data', (c: Buffer) => (webStderr += c.toString()));
  let apiStdout = '';
  api.child.stdout!.on('data', (c: Buffer) => (apiStdout += c.toString()));

  await waitFor(
    async () => (await get(`http://127.0.0.1:${web.inboundPort}/logged`)).status === 200 && /"path":"\/logged"/.test(webStderr),
    'an access log line on stderr',
    20_000,
  );
  await waitFor(async () => webStdout.includes('app served /logged'), "the app's own line on stdout", 10_000);
  assert.doesNotMatch(webStdout, /"response_code"/, "no access log line on the app's stdout");
  const line = JSON.parse(webStderr.split('\n').find((l) => l.includes('"path":"/logged"'))!);
  assert.equal(line.direction, 'inbound');

  await waitFor(
    async () => (await get(`http://127.0.0.1:${api.inboundPort}/to-file`)).status === 200 && existsSync(file) && /"path":"\/to-file"/.test(readFileSync(file, 'utf8')),
    'an access log line in the file',
    20_000,
  );
  assert.doesNotMatch(apiStdout + api.output(), /"path":"\/to-file"/, 'not on stdout or stderr');
});
