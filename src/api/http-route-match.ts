// Parsing HTTPRoute matches: path, headers, query parameters and method, with Gateway API defaults.
import { z } from 'zod';
import type { HTTPHeaderMatch, HTTPPathMatch, HTTPQueryParamMatch, HTTPRouteMatch } from './resource.js';
import { checkHeaderName } from './names.js';
import { checkRe2 } from './re2.js';
import { describeValue } from './problem.js';
import { checked, closedObject, fieldOf, uniqueItems } from './schema-kit.js';

/** HTTP methods a match may name (Gateway API `HTTPMethod`). */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] as const;
/** Gateway API limits. */
export const MAX_HEADER_MATCHES = 16;
export const MAX_QUERY_PARAM_MATCHES = 16;
const MAX_PATH_LENGTH = 1024;
const MAX_VALUE_LENGTH = 4096;

/** The match used when a rule names none: every path (a fresh object each call). */
export const defaultMatch = (): HTTPRouteMatch => ({ path: { type: 'PathPrefix', value: '/' } });

/** Why `value` is not a valid path of match type `type`, or `undefined`. */
export function checkPathValue(type: HTTPPathMatch['type'], value: string): string | undefined {
  if (type === 'RegularExpression') return checkRe2(value);
  if (!value.startsWith('/')) return `must start with "/", got ${describeValue(value)}`;
  if (/[?#\s]/.test(value)) return `must not contain "?", "#" or white space (match query parameters with queryParams), got ${describeValue(value)}`;
  if (type === 'PathPrefix' && value !== '/' && value.endsWith('/')) {
    return `must not end with "/" (the prefix ${describeValue(value.replace(/\/+$/, ''))} already matches the path and everything below it), got ${describeValue(value)}`;
  }
  return undefined;
}

const path = closedObject({
  type: z.enum(['Exact', 'PathPrefix', 'RegularExpression']).default('PathPrefix'),
  value: z.string().min(1).max(MAX_PATH_LENGTH).default('/'),
}).superRefine((p, ctx) => {
  const problem = checkPathValue(p.type, p.value);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, path: ['value'], input: p.value });
});

/** A header or query-parameter match: `Exact` by default; a `RegularExpression` value must be RE2. */
function nameValueMatch(checkName: (name: string) => string | undefined) {
  return closedObject({
    type: z.enum(['Exact', 'RegularExpression']).default('Exact'),
    name: checked(z.string(), checkName),
    value: z.string().max(MAX_VALUE_LENGTH),
  }).superRefine((m, ctx) => {
    const problem = m.type === 'RegularExpression' ? checkRe2(m.value) : undefined;
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, path: ['value'], input: m.value });
  });
}

const checkQueryParamName = (s: string): string | undefined =>
  s.length > 0 && s.length <= 256 && !/[\s=&#]/.test(s)
    ? undefined
    : `must be a query parameter name (1 to 256 characters, no white space, "=", "&" or "#"), got ${describeValue(s)}`;

const nameOf = (m: unknown): string | undefined => (typeof fieldOf(m, 'name') === 'string' ? (fieldOf(m, 'name') as string) : undefined);

// Header names are case-insensitive (RFC 9110); query parameter names are not.
const headers = uniqueItems(z.array(nameValueMatch(checkHeaderName)).max(MAX_HEADER_MATCHES), 'headers', ['name'], (m) => nameOf(m)?.toLowerCase(), 'header name');
const queryParams = uniqueItems(z.array(nameValueMatch(checkQueryParamName)).max(MAX_QUERY_PARAM_MATCHES), 'queryParams', ['name'], nameOf, 'query parameter');

/** Schema of one `HTTPRouteMatch`. */
export const httpRouteMatchSchema = closedObject({
  path: path.optional(),
  headers: headers.optional(),
  queryParams: queryParams.optional(),
  method: z.enum(HTTP_METHODS).optional(),
});

type ParsedMatch = z.output<typeof httpRouteMatchSchema>;

/** The canonical match: path always present (default PathPrefix `/`), empty lists left out. */
export function toHTTPRouteMatch(m: ParsedMatch): HTTPRouteMatch {
  const out: HTTPRouteMatch = { path: m.path ? { type: m.path.type, value: m.path.value } : defaultMatch().path! };
  if (m.headers?.length) out.headers = m.headers.map((h): HTTPHeaderMatch => ({ type: h.type, name: h.name, value: h.value }));
  if (m.queryParams?.length) out.queryParams = m.queryParams.map((q): HTTPQueryParamMatch => ({ type: q.type, name: q.name, value: q.value }));
  if (m.method !== undefined) out.method = m.method;
  return out;
}
