// `trellis tap` on a scripted stream: requests are printed; drop notices and proxy problems go to stderr and do not count.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ok } from '../../common/result.js';
import type { CliIo } from '../io.js';
import type { TelemetryClient } from '../telemetry-client.js';
import { runTap } from './tap.js';

test('a drop notice and a proxy problem are reported on stderr, not printed as requests', async () => {
  const request = {
    time: 't',
    direction: 'inbound',
    method: 'GET',
    authority: 'a',
    path: '/x',
    status: 200,
    durationMs: 1,
    requestBytes: 0,
    responseBytes: 0,
    sourceService: 'web.default',
    service: 'api.default',
    proxy: 'p1',
  };
  async function* stream() {
    yield { event: 'dropped', proxy: 'p1', dropped: 42 };
    yield { event: 'problem', proxy: 'p2', message: 'proxy tap answered HTTP 404' };
    yield request;
  }
  const client = { tap: async () => ok(stream()) } as unknown as TelemetryClient;
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (s: string) => out.push(s), err: (s: string) => err.push(s) } as unknown as CliIo;
  assert.equal(await runTap('api', { max: 1 }, io, client), 0);
  assert.deepEqual(err, ['tap: 42 event(s) dropped while this client fell behind (at p1)\n', 'tap: p2: proxy tap answered HTTP 404\n']);
  assert.equal(out.length, 1);
  assert.match(out[0]!, /in {2}web\.default -> api\.default GET a\/x :status=200/);
});
