// listenUnix on real sockets in a temporary directory: owner-only mode, a stale socket
// replaced, a live one or a plain file refused, a bad path named, the file gone on close.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { listenUnix, unixSocketPathProblem } from './listen-unix.js';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-sock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function serve(t: TestContext): http.Server {
  const s = http.createServer((_req, res) => res.end('ok'));
  t.after(() => new Promise<void>((resolve) => s.close(() => resolve())));
  return s;
}

const get = (socketPath: string): Promise<string> =>
  new Promise((resolve, reject) => {
    http
      .get({ socketPath, path: '/' }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });

test('serves on the socket with mode 0600 and removes the file on close', async (t) => {
  const p = path.join(tempDir(t), 'admin.sock');
  const s = serve(t);
  await listenUnix(s, p, 'the admin listener');
  assert.equal(statSync(p).mode & 0o777, 0o600);
  assert.equal(await get(p), 'ok');
  await new Promise<void>((resolve) => s.close(() => resolve()));
  assert.equal(existsSync(p), false);
});

test('a stale socket file from a crashed run is replaced', async (t) => {
  const p = path.join(tempDir(t), 'stale.sock');
  // A process that served on it and was killed with SIGKILL leaves the file behind.
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(p)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  child.kill('SIGKILL');
  await once(child, 'exit');
  assert.ok(statSync(p).isSocket());
  const s = serve(t);
  await listenUnix(s, p, 'the admin listener');
  assert.equal(await get(p), 'ok');
});

test('a socket another process serves on is refused, and left alone', async (t) => {
  const p = path.join(tempDir(t), 'busy.sock');
  await listenUnix(serve(t), p, 'the admin listener');
  await assert.rejects(listenUnix(serve(t), p, 'the admin listener'), { message: `cannot serve the admin listener on the Unix socket ${p}: another process is serving on it` });
  assert.equal(await get(p), 'ok');
});

test('a path that is not a socket is refused and kept', async (t) => {
  const p = path.join(tempDir(t), 'notes.txt');
  writeFileSync(p, 'keep me');
  await assert.rejects(listenUnix(serve(t), p, 'the admin listener'), /on the Unix socket .*notes\.txt: the path exists and is not a socket/);
  assert.ok(statSync(p).isFile());
});

test('a missing directory and a bad path are named in one line', async (t) => {
  const missing = path.join(tempDir(t), 'no-such-dir', 'a.sock');
  await assert.rejects(listenUnix(serve(t), missing, 'the admin listener'), {
    message: `cannot serve the admin listener on the Unix socket ${missing}: its directory ${path.dirname(missing)} does not exist`,
  });
  await assert.rejects(listenUnix(serve(t), 'relative.sock', 'the admin listener'), {
    message: 'cannot serve the admin listener on the Unix socket relative.sock: must be an absolute path, got "relative.sock"',
  });
});

test('unixSocketPathProblem: absolute, no NUL, at most 107 bytes', () => {
  assert.equal(unixSocketPathProblem('/run/trellis/admin.sock'), undefined);
  assert.equal(unixSocketPathProblem('/' + 'a'.repeat(106)), undefined);
  assert.match(unixSocketPathProblem('/' + 'a'.repeat(107))!, /^must be at most 107 bytes \(a Unix socket address\), got 108: /);
  assert.equal(unixSocketPathProblem('admin.sock'), 'must be an absolute path, got "admin.sock"');
  assert.equal(unixSocketPathProblem('/a\0b'), 'must not contain a NUL byte');
  assert.equal(unixSocketPathProblem(''), 'must be a path, got nothing');
});
