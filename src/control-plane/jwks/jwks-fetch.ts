// Obtaining one JWK Set for the JWKS cache: an http(s) URL fetched with a timeout and a size
// bound (https verified against Node's CA store, plus NODE_EXTRA_CA_CERTS), or a file read
// with the same bound. The result is checked as a JWK Set with keys, as an inline one is.
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { checkJwks, MAX_JWKS_BYTES } from '../../api/request-authentication.js';
import { err, ok, type Result } from '../../common/result.js';

export interface FetchedKeys {
  /** The JWK Set, as JSON text. */
  readonly json: string;
  /** Seconds of the response's Cache-Control max-age, when it gave one. */
  readonly maxAgeSeconds?: number;
}

/** Fetches `url` (GET, no redirects followed); an answer other than 200 with a JWK Set is an error naming what came. */
export function fetchJwksUrl(url: string, timeoutMs: number, maxBytes = MAX_JWKS_BYTES): Promise<Result<FetchedKeys, string>> {
  return new Promise((resolve) => {
    const client = url.startsWith('https:') ? https : http;
    const req = client.get(url, { timeout: timeoutMs, headers: { accept: 'application/json' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return resolve(err(`GET ${url} answered ${res.statusCode}`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) {
          req.destroy();
          resolve(err(`GET ${url} sent more than ${maxBytes} bytes`));
        } else chunks.push(c);
      });
      res.on('error', (e) => resolve(err(`GET ${url} failed: ${e.message}`)));
      res.on('end', () => {
        const json = Buffer.concat(chunks).toString('utf8');
        const why = checkJwks(json);
        if (why !== undefined) return resolve(err(`GET ${url}: the body ${why}`));
        const maxAge = /(?:^|,)\s*max-age\s*=\s*(\d+)/i.exec(res.headers['cache-control'] ?? '');
        resolve(ok(maxAge ? { json, maxAgeSeconds: Number(maxAge[1]) } : { json }));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e) => resolve(err(`GET ${url} failed: ${(e as NodeJS.ErrnoException).code ?? ''}${(e as NodeJS.ErrnoException).code ? ' ' : ''}${e.message}`)));
  });
}

/** Reads the JWK Set file `file`. */
export async function readJwksFile(file: string, maxBytes = MAX_JWKS_BYTES): Promise<Result<FetchedKeys, string>> {
  try {
    const info = await stat(file);
    if (info.size > maxBytes) return err(`${file} holds ${info.size} bytes, more than ${maxBytes}`);
    const json = await readFile(file, 'utf8');
    const why = checkJwks(json);
    return why === undefined ? ok({ json }) : err(`${file} ${why}`);
  } catch (e) {
    return err(`cannot read ${file}: ${(e as Error).message}`);
  }
}
