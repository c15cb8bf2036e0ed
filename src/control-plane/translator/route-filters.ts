// HTTPRoute filters → Envoy route fields: header modifiers (request/response headers to add and
// remove), request mirror policies, URL rewrite (prefix, full path, host) and redirects.
import type { HTTPHeaderModifier, HTTPRoute, HTTPRouteMatch, HTTPRouteRule } from '../../api/resource.js';
import type { HeaderValueOption, RedirectAction, Route, RouteAction } from '../../xds/envoy-types.js';
import { normalizedPrefix } from './route-match.js';

/** Resolves a Service backend to its cluster name, or the reason it cannot be used. */
export type BackendResolver = (ref: { name: string; namespace?: string; port: number }) => string | { problem: string };

export interface FilterFields {
  /** Fields of the Envoy Route (headers, redirect). */
  route: Pick<Route, 'requestHeadersToAdd' | 'requestHeadersToRemove' | 'responseHeadersToAdd' | 'responseHeadersToRemove'>;
  /** Fields of the RouteAction (mirrors, rewrites). */
  action: Pick<RouteAction, 'requestMirrorPolicies' | 'hostRewriteLiteral'>;
  /** Set for a redirect rule: it needs no backends. */
  redirect?: (match: HTTPRouteMatch) => RedirectAction;
  /** Path rewrite for one match of the rule. */
  pathRewrite?: (match: HTTPRouteMatch) => Pick<RouteAction, 'prefixRewrite' | 'regexRewrite'>;
}

function headerOptions(m: HTTPHeaderModifier): HeaderValueOption[] {
  return [
    ...(m.set ?? []).map((h): HeaderValueOption => ({ header: { key: h.name.toLowerCase(), value: h.value }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' })),
    ...(m.add ?? []).map((h): HeaderValueOption => ({ header: { key: h.name.toLowerCase(), value: h.value }, appendAction: 'APPEND_IF_EXISTS_OR_ADD' })),
  ];
}

const isPrefix = (m: HTTPRouteMatch): boolean => (m.path?.type ?? 'PathPrefix') === 'PathPrefix';

/** The Envoy fields of a rule's filters; problems (a mirror to a missing Service, a prefix rewrite of a non-prefix match) are warnings. */
export function filterFields(route: HTTPRoute, rule: HTTPRouteRule, where: string, resolve: BackendResolver, warnings: string[]): FilterFields {
  const out: FilterFields = { route: {}, action: {} };
  (rule.filters ?? []).forEach((f, i) => {
    const at = `${where}.filters[${i}]`;
    switch (f.type) {
      case 'RequestHeaderModifier': {
        const add = headerOptions(f.requestHeaderModifier);
        if (add.length) out.route.requestHeadersToAdd = add;
        if (f.requestHeaderModifier.remove?.length) out.route.requestHeadersToRemove = f.requestHeaderModifier.remove.map((h) => h.toLowerCase());
        break;
      }
      case 'ResponseHeaderModifier': {
        const add = headerOptions(f.responseHeaderModifier);
        if (add.length) out.route.responseHeadersToAdd = add;
        if (f.responseHeaderModifier.remove?.length) out.route.responseHeadersToRemove = f.responseHeaderModifier.remove.map((h) => h.toLowerCase());
        break;
      }
      case 'RequestMirror': {
        const ref = f.requestMirror.backendRef;
        const cluster = resolve({ name: ref.name, port: ref.port, namespace: ref.namespace ?? route.metadata.namespace });
        if (typeof cluster !== 'string') {
          warnings.push(`${at}: ${cluster.problem}; nothing is mirrored there`);
          break;
        }
        const percent = f.requestMirror.percent ?? 100;
        (out.action.requestMirrorPolicies ??= []).push({
          cluster,
          ...(percent < 100 ? { runtimeFraction: { defaultValue: { numerator: percent, denominator: 'HUNDRED' } } } : {}),
        });
        break;
      }
      case 'URLRewrite': {
        const u = f.urlRewrite;
        if (u.hostname) out.action.hostRewriteLiteral = u.hostname;
        const p = u.path;
        if (p?.type === 'ReplaceFullPath') out.pathRewrite = () => ({ regexRewrite: { pattern: { regex: '^/.*$' }, substitution: p.replaceFullPath! } });
        if (p?.type === 'ReplacePrefixMatch') {
          out.pathRewrite = (m) => {
            if (!isPrefix(m)) {
              warnings.push(`${at}: ReplacePrefixMatch needs a PathPrefix match, got ${m.path?.type}; that match is not rewritten`);
              return {};
            }
            return { prefixRewrite: p.replacePrefixMatch! };
          };
        }
        break;
      }
      case 'RequestRedirect': {
        const r = f.requestRedirect;
        out.redirect = (m) => {
          const action: RedirectAction = { responseCode: r.statusCode === 301 ? 'MOVED_PERMANENTLY' : 'FOUND' };
          if (r.scheme) action.schemeRedirect = r.scheme;
          if (r.hostname) action.hostRedirect = r.hostname;
          if (r.port) action.portRedirect = r.port;
          if (r.path?.type === 'ReplaceFullPath') action.pathRedirect = r.path.replaceFullPath!;
          if (r.path?.type === 'ReplacePrefixMatch') {
            if (isPrefix(m)) action.prefixRewrite = r.path.replacePrefixMatch!;
            else warnings.push(`${at}: ReplacePrefixMatch needs a PathPrefix match, got ${m.path?.type}; the path is kept`);
          }
          return action;
        };
        break;
      }
    }
  });
  return out;
}

/** The prefix a PathPrefix match matched, as the proxy compares it (no trailing slash). */
export const matchedPrefix = (m: HTTPRouteMatch): string => normalizedPrefix(m.path?.value ?? '/');
