// Reading a JSON request body: only JSON media types (415), at most a byte limit (413), valid JSON (400).
import type { IncomingMessage } from 'node:http';
import { err, ok, type Result } from '../../common/result.js';
import { apiError, type ApiError } from './errors.js';
import { checkRawShape, MAX_DOCUMENT_DEPTH } from '../../api/raw-document.js';
import { formatProblem } from '../../api/problem.js';

/** How deep a request body may nest: a resource's own limit inside the apply envelope (`{resources: [...]}`). */
export const MAX_BODY_DEPTH = MAX_DOCUMENT_DEPTH + 2;

export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

/** `application/json`, or any `+json` type, parameters (charset) allowed. */
function isJsonMediaType(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

const tooLarge = (limit: number, got: string) =>
  apiError('BODY_TOO_LARGE', `the request body is ${got}; at most ${limit} bytes are accepted`, { headers: { connection: 'close' } });

/** The parsed JSON body. On a 413 the rest of the body is discarded (the answer closes the connection). */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<Result<unknown, ApiError>> {
  if (!isJsonMediaType(req.headers['content-type'])) {
    req.resume();
    return err(
      apiError('UNSUPPORTED_MEDIA_TYPE', `the request body must be JSON (content-type: application/json), got content-type ${JSON.stringify(req.headers['content-type'] ?? '')}`),
    );
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return err(tooLarge(limit, `${declared} bytes`));
  }
  // Listeners rather than `for await`: leaving an async iterator early destroys the socket, and the 413 must still reach the client.
  const body = await new Promise<Result<Buffer, ApiError>>((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off('data', onData);
      req.resume();
      resolve(err(tooLarge(limit, `over ${limit} bytes`)));
    };
    req.on('data', onData);
    req.once('end', () => resolve(ok(Buffer.concat(chunks))));
    req.once('error', (e) => resolve(err(apiError('BAD_REQUEST', `the request body could not be read: ${e.message}`))));
  });
  if (!body.ok) return body;
  const text = body.value.toString('utf8');
  if (text.trim() === '') return err(apiError('BAD_REQUEST', 'the request body is empty; expected a JSON document'));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch (e) {
    return err(apiError('INVALID_JSON', `the request body is not valid JSON: ${(e as Error).message}`));
  }
  // Before any handler walks it: bounded nesting, and no key that cannot be stored as data.
  const shape = checkRawShape(parsed, MAX_BODY_DEPTH);
  if (shape.length > 0) {
    return err(
      apiError('BAD_REQUEST', `the request body cannot be read as resources: ${shape.map(formatProblem).join('; ')}`, {
        problems: shape.map((p) => ({ resource: 'the request body', ...p })),
      }),
    );
  }
  return ok(parsed);
}
