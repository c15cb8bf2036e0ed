// A test OTLP/HTTP JSON receiver on loopback: keeps every span it is sent, with its resource's service.name.
import http from 'node:http';
import type net from 'node:net';
import type { TestContext } from 'node:test';
import { cleanup } from './cleanup.js';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  service: string;
}

/** Starts the receiver (stopped when the test ends); `url` is the collector's base URL. */
export async function otlpCollector(t: TestContext): Promise<{ url: string; spans: ReceivedSpan[] }> {
  const spans: ReceivedSpan[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.url === '/v1/traces' && req.method === 'POST') {
        for (const rs of JSON.parse(body).resourceSpans) {
          const service = rs.resource.attributes.find((a: { key: string }) => a.key === 'service.name').value.stringValue;
          for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, service });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup(
    t,
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, spans };
}
