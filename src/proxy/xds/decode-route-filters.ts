// Decodes the request-shaping fields of an Envoy Route: request/response headers to add and
// remove, prefix/regex/host rewrites, redirects, and request mirror policies.
import { FORBIDDEN_IN_FIELD_VALUE } from '../../common/http-field.js';
import type { HeaderMods, MirrorConfig, RedirectConfig, RewriteConfig } from '../config/route-filter-config.js';
import type { PathMatch } from '../config/runtime-config.js';
import { XDS_PROBLEM, show } from './errors.js';
import type { ProblemSink } from './decode-fields.js';
import { at, idx, isObj, readList, readName, readObj, type Obj } from './decode-fields.js';
import { compileRe2 } from './decode-regex.js';

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

/** Header changes of `add`/`remove` fields (e.g. requestHeadersToAdd, requestHeadersToRemove); undefined when none. */
export function decodeHeaderMods(s: ProblemSink, raw: Obj, addField: string, removeField: string, path: string): HeaderMods | undefined | null {
  const before = s.problems.length;
  const set: [string, string][] = [];
  const add: [string, string][] = [];
  readList(s, raw, addField, path).forEach((o, i) => {
    const p = idx(at(path, addField), i);
    if (!isObj(o) || !isObj(o.header)) return void s.add(p, XDS_PROBLEM.INVALID, `must be a HeaderValueOption { header: { key, value } }, got ${show(o)}`);
    const key = readName(s, o.header, 'key', at(p, 'header'));
    const value = o.header.value ?? '';
    if (typeof value !== 'string') return void s.add(at(at(p, 'header'), 'value'), XDS_PROBLEM.INVALID, `must be a string, got ${show(value)}`);
    if (FORBIDDEN_IN_FIELD_VALUE.test(value)) {
      return void s.add(
        at(at(p, 'header'), 'value'),
        XDS_PROBLEM.INVALID,
        `must not hold control characters other than tab (a CR or LF would end the header line), got ${show(value)}`,
      );
    }
    if (o.append !== undefined || o.keepEmptyValue !== undefined)
      return void s.add(p, XDS_PROBLEM.UNSUPPORTED, 'append and keepEmptyValue are not supported by Trellis proxy; use appendAction');
    const action = o.appendAction ?? 'APPEND_IF_EXISTS_OR_ADD';
    if (!key) return;
    const name = key.toLowerCase();
    if (!HEADER_NAME.test(name) || name.startsWith(':')) return void s.add(at(at(p, 'header'), 'key'), XDS_PROBLEM.UNSUPPORTED, `must be a regular header name, got ${show(key)}`);
    if (action === 'OVERWRITE_IF_EXISTS_OR_ADD') set.push([name, value]);
    else if (action === 'APPEND_IF_EXISTS_OR_ADD') add.push([name, value]);
    else
      s.add(at(p, 'appendAction'), XDS_PROBLEM.UNSUPPORTED, `${show(action)} is not supported by Trellis proxy (supported: APPEND_IF_EXISTS_OR_ADD, OVERWRITE_IF_EXISTS_OR_ADD)`);
  });
  const remove: string[] = [];
  readList(s, raw, removeField, path).forEach((h, i) => {
    if (typeof h !== 'string' || !HEADER_NAME.test(h.toLowerCase())) return void s.add(idx(at(path, removeField), i), XDS_PROBLEM.INVALID, `must be a header name, got ${show(h)}`);
    remove.push(h.toLowerCase());
  });
  if (s.problems.length > before) return null;
  return set.length + add.length + remove.length === 0 ? undefined : { set, add, remove };
}

/** The prefix a route's path match matched, for prefix rewrites; undefined for exact and regex matches. */
function matchedPrefix(match: PathMatch): string | undefined {
  return match.type === 'prefix' || match.type === 'segment-prefix' ? match.value : undefined;
}

/** Rewrites of a RouteAction; null on a problem, undefined when none. */
export function decodeRewrite(s: ProblemSink, action: Obj, path: string, match: PathMatch | undefined): RewriteConfig | undefined | null {
  const before = s.problems.length;
  const out: { prefix?: RewriteConfig['prefix']; regex?: RewriteConfig['regex']; host?: string } = {};
  if (action.prefixRewrite !== undefined) {
    const from = match ? matchedPrefix(match) : undefined;
    if (typeof action.prefixRewrite !== 'string') s.add(at(path, 'prefixRewrite'), XDS_PROBLEM.INVALID, `must be a string, got ${show(action.prefixRewrite)}`);
    else if (match && from === undefined) s.add(at(path, 'prefixRewrite'), XDS_PROBLEM.INVALID, 'needs a prefix or pathSeparatedPrefix match');
    else if (from !== undefined) out.prefix = { from, to: action.prefixRewrite };
  }
  const rr = readObj(s, action, 'regexRewrite', path, false);
  if (rr) {
    const rpath = at(path, 'regexRewrite');
    const pattern = readObj(s, rr, 'pattern', rpath);
    // Envoy replaces every match anywhere in the path (SafeRegex.replaceAll).
    const regex = pattern ? compileRe2(s, pattern.regex, at(at(rpath, 'pattern'), 'regex')) : undefined;
    const sub = rr.substitution ?? '';
    if (typeof sub !== 'string') s.add(at(rpath, 'substitution'), XDS_PROBLEM.INVALID, `must be a string, got ${show(sub)}`);
    // Envoy writes groups as \1; JavaScript as $1.
    else if (regex) out.regex = { regex, substitution: sub.replace(/\$/g, '$$$$').replace(/\\(\d)/g, '$$$1') };
  }
  if (action.hostRewriteLiteral !== undefined) {
    if (typeof action.hostRewriteLiteral !== 'string' || action.hostRewriteLiteral === '')
      s.add(at(path, 'hostRewriteLiteral'), XDS_PROBLEM.INVALID, `must be a host name, got ${show(action.hostRewriteLiteral)}`);
    else out.host = action.hostRewriteLiteral;
  }
  if (s.problems.length > before) return null;
  return Object.keys(out).length === 0 ? undefined : out;
}

const REDIRECT_CODES: Readonly<Record<string, RedirectConfig['status']>> = { MOVED_PERMANENTLY: 301, FOUND: 302, SEE_OTHER: 303, TEMPORARY_REDIRECT: 307, PERMANENT_REDIRECT: 308 };

export function decodeRedirect(s: ProblemSink, raw: Obj, path: string, match: PathMatch): RedirectConfig | undefined {
  const before = s.problems.length;
  if (raw.regexRewrite !== undefined) s.add(at(path, 'regexRewrite'), XDS_PROBLEM.UNSUPPORTED, 'regex redirects are not supported by Trellis proxy');
  const status = REDIRECT_CODES[String(raw.responseCode ?? 'MOVED_PERMANENTLY')];
  if (status === undefined) s.add(at(path, 'responseCode'), XDS_PROBLEM.INVALID, `must be one of ${Object.keys(REDIRECT_CODES).join(', ')}, got ${show(raw.responseCode)}`);
  const str = (f: string): string | undefined => {
    const v = raw[f];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') return s.add(at(path, f), XDS_PROBLEM.INVALID, `must be a string, got ${show(v)}`);
    return v;
  };
  const out: { -readonly [K in keyof RedirectConfig]: RedirectConfig[K] } = { status: status ?? 301, stripQuery: raw.stripQuery === true };
  const scheme = raw.httpsRedirect === true ? 'https' : str('schemeRedirect');
  if (scheme !== undefined) out.scheme = scheme;
  const host = str('hostRedirect');
  if (host !== undefined) out.host = host;
  if (raw.portRedirect !== undefined) {
    if (typeof raw.portRedirect !== 'number' || raw.portRedirect < 1 || raw.portRedirect > 65535)
      s.add(at(path, 'portRedirect'), XDS_PROBLEM.INVALID, `must be a port, got ${show(raw.portRedirect)}`);
    else out.port = raw.portRedirect;
  }
  const fullPath = str('pathRedirect');
  if (fullPath !== undefined) out.path = fullPath;
  const prefix = str('prefixRewrite');
  if (prefix !== undefined) {
    const from = matchedPrefix(match);
    if (from === undefined) s.add(at(path, 'prefixRewrite'), XDS_PROBLEM.INVALID, 'needs a prefix or pathSeparatedPrefix match');
    else out.prefix = { from, to: prefix };
  }
  return s.problems.length > before ? undefined : out;
}

/** requestMirrorPolicies of a RouteAction; null on a problem. */
export function decodeMirrors(s: ProblemSink, action: Obj, path: string): MirrorConfig[] | null {
  const before = s.problems.length;
  const out: MirrorConfig[] = [];
  readList(s, action, 'requestMirrorPolicies', path).forEach((m, i) => {
    const p = idx(at(path, 'requestMirrorPolicies'), i);
    if (!isObj(m)) return void s.add(p, XDS_PROBLEM.INVALID, `must be a RequestMirrorPolicy, got ${show(m)}`);
    if (m.clusterHeader !== undefined || m.traceSampled !== undefined || m.disableShadowHostSuffixAppend !== undefined)
      return void s.add(p, XDS_PROBLEM.UNSUPPORTED, 'only cluster and runtimeFraction are supported by Trellis proxy');
    const cluster = readName(s, m, 'cluster', p);
    let perMillion = 1_000_000;
    const rf = readObj(s, m, 'runtimeFraction', p, false);
    if (rf) {
      const d = isObj(rf.defaultValue) ? rf.defaultValue : { numerator: 0 };
      const n = d.numerator ?? 0;
      const scale = { HUNDRED: 10_000, TEN_THOUSAND: 100, MILLION: 1 }[String(d.denominator ?? 'HUNDRED')];
      if (typeof n !== 'number' || scale === undefined) return void s.add(at(p, 'runtimeFraction'), XDS_PROBLEM.INVALID, `must be a fraction, got ${show(rf)}`);
      perMillion = Math.min(1_000_000, n * scale);
    }
    if (cluster) out.push({ cluster, perMillion });
  });
  return s.problems.length > before ? null : out;
}
