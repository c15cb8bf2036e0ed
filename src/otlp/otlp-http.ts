// OTLP/HTTP: one POST {collector}/v1/traces per export request, JSON or protobuf. A collector is
// a base URL (http or https), or `unix:PATH`: plain HTTP over that socket (the control plane's
// span receiver for proxies in other network namespaces; its permissions are the trust boundary).
import type * as Http from 'node:http';
import type * as Https from 'node:https';
import { http, https } from '../common/node-http.js';

/** TLS options for an https collector: roots, and a client certificate where the collector asks for one. */
export type CollectorTls = Pick<Https.RequestOptions, 'ca' | 'key' | 'cert'>;

/** The content type of each OTLP/HTTP encoding. */
export const OTLP_CONTENT_TYPE = { 'http/json': 'application/json', 'http/protobuf': 'application/x-protobuf' } as const;

/** POSTs `body` to {collector}/v1/traces; rejects with the HTTP status when the collector refuses it, or after `timeoutMs` without an answer. */
export function postOtlp(collector: string, body: string | Uint8Array, encoding: keyof typeof OTLP_CONTENT_TYPE, tlsOptions: CollectorTls, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const options: Http.RequestOptions = {
      method: 'POST',
      headers: { 'content-type': OTLP_CONTENT_TYPE[encoding], 'content-length': Buffer.byteLength(body) },
      timeout: timeoutMs,
    };
    const onResponse = (res: Http.IncomingMessage) => {
      res.resume();
      res.on('end', () => (res.statusCode !== undefined && res.statusCode < 300 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
    };
    let req: Http.ClientRequest;
    if (collector.startsWith('unix:')) req = http.request({ ...options, socketPath: collector.slice('unix:'.length), path: '/v1/traces' }, onResponse);
    else {
      const url = new URL(`${collector.replace(/\/+$/, '')}/v1/traces`);
      req = url.protocol === 'https:' ? https.request(url, { ...options, ...tlsOptions }, onResponse) : http.request(url, options, onResponse);
    }
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end(body);
  });
}
