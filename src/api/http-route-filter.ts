// Parsing HTTPRoute rule filters (Gateway API): request and response header modifiers,
// request mirroring, URL rewrite and request redirect.
import { z } from 'zod';
import { checkDns1123Label, checkHeaderName, checkHeaderValue, checkHostname } from './names.js';
import { describeValue } from './problem.js';
import { checked, closedObject, fieldOf, uniqueItems } from './schema-kit.js';

export interface HTTPHeader {
  name: string;
  value: string;
}
export interface HTTPHeaderModifier {
  set?: HTTPHeader[];
  add?: HTTPHeader[];
  remove?: string[];
}
export interface HTTPPathModifier {
  type: 'ReplaceFullPath' | 'ReplacePrefixMatch';
  replaceFullPath?: string;
  replacePrefixMatch?: string;
}
export type HTTPRouteFilter =
  | { type: 'RequestHeaderModifier'; requestHeaderModifier: HTTPHeaderModifier }
  | { type: 'ResponseHeaderModifier'; responseHeaderModifier: HTTPHeaderModifier }
  | { type: 'RequestMirror'; requestMirror: { backendRef: { group: ''; kind: 'Service'; name: string; namespace?: string; port: number }; percent?: number } }
  | { type: 'URLRewrite'; urlRewrite: { hostname?: string; path?: HTTPPathModifier } }
  | { type: 'RequestRedirect'; requestRedirect: { scheme?: 'http' | 'https'; hostname?: string; path?: HTTPPathModifier; port?: number; statusCode: 301 | 302 } };

const header = closedObject({ name: checked(z.string(), checkHeaderName), value: checked(z.string().max(4096), checkHeaderValue) });
const lower = (x: unknown): string | undefined => (typeof fieldOf(x, 'name') === 'string' ? (fieldOf(x, 'name') as string).toLowerCase() : undefined);
const headerList = (what: string) => uniqueItems(z.array(header).max(16), what, ['name'], lower, 'header name');

const headerModifier = closedObject({
  set: headerList('set').optional(),
  add: headerList('add').optional(),
  remove: z.array(checked(z.string(), checkHeaderName)).max(16).optional(),
});

const absolutePath = checked(z.string().max(1024), (p) =>
  p.startsWith('/') && !/[?#\s]/.test(p) ? undefined : `must be a path starting with "/" without "?", "#" or white space, got ${describeValue(p)}`,
);

const pathModifier = closedObject({
  type: z.enum(['ReplaceFullPath', 'ReplacePrefixMatch']),
  replaceFullPath: absolutePath.optional(),
  replacePrefixMatch: absolutePath.optional(),
}).superRefine((p, ctx) => {
  const field = p.type === 'ReplaceFullPath' ? 'replaceFullPath' : 'replacePrefixMatch';
  const other = p.type === 'ReplaceFullPath' ? 'replacePrefixMatch' : 'replaceFullPath';
  if (p[field] === undefined) ctx.addIssue({ code: 'custom', message: `required for type ${p.type}`, path: [field], input: undefined });
  if (p[other] !== undefined)
    ctx.addIssue({ code: 'custom', message: `only for type ${other === 'replaceFullPath' ? 'ReplaceFullPath' : 'ReplacePrefixMatch'}; remove it`, path: [other], input: p[other] });
});

const serviceRef = closedObject({
  group: checked(z.string(), (g) => (g === '' || g === 'core' ? undefined : `only Service backends are supported; group must be "", got ${describeValue(g)}`)).default(''),
  kind: checked(z.string(), (k) => (k === 'Service' ? undefined : `only Service backends are supported; kind must be "Service", got ${describeValue(k)}`)).default('Service'),
  name: checked(z.string(), checkDns1123Label),
  namespace: checked(z.string(), checkDns1123Label).optional(),
  port: z
    .int({ error: (iss) => (iss.input === undefined ? 'required: the port of the mirror Service' : undefined) })
    .min(1)
    .max(65535),
});

const FILTER_FIELD = {
  RequestHeaderModifier: 'requestHeaderModifier',
  ResponseHeaderModifier: 'responseHeaderModifier',
  RequestMirror: 'requestMirror',
  URLRewrite: 'urlRewrite',
  RequestRedirect: 'requestRedirect',
} as const;

/** Schema of one HTTPRoute filter: `type` and the one field of that type. */
export const httpRouteFilterSchema = closedObject(
  {
    type: z.enum(['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror', 'URLRewrite', 'RequestRedirect']),
    requestHeaderModifier: headerModifier.optional(),
    responseHeaderModifier: headerModifier.optional(),
    requestMirror: closedObject({ backendRef: serviceRef, percent: z.int().min(0).max(100).optional() }, { fraction: 'use percent' }).optional(),
    urlRewrite: closedObject({ hostname: checked(z.string(), checkHostname).optional(), path: pathModifier.optional() }).optional(),
    requestRedirect: closedObject({
      scheme: z.enum(['http', 'https']).optional(),
      hostname: checked(z.string(), checkHostname).optional(),
      path: pathModifier.optional(),
      port: z.int().min(1).max(65535).optional(),
      statusCode: z.union([z.literal(301), z.literal(302)]).default(302),
    }).optional(),
  },
  { extensionRef: 'extension filters are not supported', cors: 'CORS filters are not supported', externalAuth: 'external authorization filters are not supported' },
).superRefine((f, ctx) => {
  const want = FILTER_FIELD[f.type];
  for (const field of Object.values(FILTER_FIELD)) {
    if (field === want && f[field] === undefined) ctx.addIssue({ code: 'custom', message: `required for type ${f.type}`, path: [field], input: undefined });
    if (field !== want && f[field] !== undefined) ctx.addIssue({ code: 'custom', message: `does not go with type ${f.type}; remove it`, path: [field], input: f[field] });
  }
});

type ParsedFilter = z.output<typeof httpRouteFilterSchema>;

const clean = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0))) as T;

/** The canonical filter: only the field of its type, empty lists left out. */
export function toHTTPRouteFilter(f: ParsedFilter): HTTPRouteFilter {
  switch (f.type) {
    case 'RequestHeaderModifier':
      return { type: f.type, requestHeaderModifier: clean(f.requestHeaderModifier!) };
    case 'ResponseHeaderModifier':
      return { type: f.type, responseHeaderModifier: clean(f.responseHeaderModifier!) };
    case 'RequestMirror':
      return {
        type: f.type,
        requestMirror: clean({ backendRef: clean({ ...f.requestMirror!.backendRef, group: '' as const, kind: 'Service' as const }), percent: f.requestMirror!.percent }),
      };
    case 'URLRewrite':
      return { type: f.type, urlRewrite: clean({ hostname: f.urlRewrite!.hostname, path: f.urlRewrite!.path ? clean(f.urlRewrite!.path) : undefined }) };
    case 'RequestRedirect': {
      const r = f.requestRedirect!;
      return { type: f.type, requestRedirect: clean({ scheme: r.scheme, hostname: r.hostname, path: r.path ? clean(r.path) : undefined, port: r.port, statusCode: r.statusCode }) };
    }
  }
}

/** Gateway API: at most one filter of each type per rule except RequestMirror; a redirect excludes a rewrite. */
export function checkFilters(filters: readonly { type?: unknown }[]): { index: number; message: string } | undefined {
  const seen = new Map<unknown, number>();
  for (let i = 0; i < filters.length; i++) {
    const t = filters[i]!.type;
    if (t !== 'RequestMirror' && seen.has(t)) return { index: i, message: `a second ${String(t)} filter (already filters[${seen.get(t)}]); at most one per rule` };
    seen.set(t, i);
  }
  if (seen.has('RequestRedirect') && seen.has('URLRewrite')) return { index: seen.get('URLRewrite')!, message: 'RequestRedirect and URLRewrite cannot be in the same rule' };
  return undefined;
}
