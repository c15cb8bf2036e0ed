// The request router of one RouteTable, compiled once per config snapshot: virtual hosts by
// exact domain (with and without port), `*.suffix` wildcards and `*`; then the host's rules
// in order, first match wins (path, then headers, then query parameters). Regexes are RE2
// (SafeRegex): whole values, linear time.
import type { HeaderMatch, PathMatch, QueryMatch, RouteRule, RouteTable, WeightedCluster } from '../config/runtime-config.js';
import { WeightedChoice } from '../balancer/weighted-choice.js';
import type { SafeRegex } from '../config/safe-regex.js';

/** What the router reads from a request. */
export interface RouteInput {
  readonly method: string;
  /** Origin-form target: path and optional `?query`. */
  readonly path: string;
  /** A request header by lower-case name. */
  header(lowerName: string): string | undefined;
}

/** A matched rule with its backends resolved for this snapshot. */
export interface CompiledRoute<T> {
  /** `virtualHost/rule`, for errors and logs. */
  readonly name: string;
  readonly rule: RouteRule;
  readonly timeoutMs: number;
  readonly backends: WeightedChoice<T>;
  /** Where copies of the requests go (empty for most routes). */
  readonly mirrors: readonly { readonly target: T; readonly perMillion: number }[];
}

interface CompiledPath {
  readonly type: PathMatch['type'];
  readonly value: string;
  /** segment-prefix: the value with one trailing slash, so `/a` matches `/a/b` but not `/ab`. */
  readonly withSlash: string;
  readonly regex: SafeRegex | undefined;
}

interface CompiledRule<T> {
  readonly path: CompiledPath;
  readonly headers: readonly HeaderMatch[];
  readonly query: readonly QueryMatch[];
  readonly route: CompiledRoute<T>;
}

interface CompiledHost<T> {
  readonly rules: readonly CompiledRule<T>[];
}

export class Router<T> {
  private readonly exact = new Map<string, CompiledHost<T>>();
  private readonly suffixes: { suffix: string; host: CompiledHost<T> }[] = [];
  private star: CompiledHost<T> | undefined;

  /** `resolve` maps a cluster name to the snapshot's object for it (the decoder guarantees it exists). */
  constructor(
    readonly table: RouteTable,
    resolve: (cluster: string) => T,
  ) {
    for (const vh of table.virtualHosts) {
      const host: CompiledHost<T> = { rules: vh.routes.map((r) => compileRule(vh.name, r, resolve)) };
      for (const raw of vh.domains) {
        const d = raw.toLowerCase();
        // The first virtual host to claim a domain keeps it (Envoy refuses duplicates; we stay total).
        if (d === '*') this.star ??= host;
        else if (d.startsWith('*')) this.suffixes.push({ suffix: d.slice(1), host });
        else if (!this.exact.has(d)) this.exact.set(d, host);
      }
    }
    // Longest suffix first: the most specific wildcard wins.
    this.suffixes.sort((a, b) => b.suffix.length - a.suffix.length);
  }

  /** The route for a request to `authority` (Host or :authority), or undefined when none matches. */
  route(authority: string, input: RouteInput): CompiledRoute<T> | undefined {
    const host = this.findHost(authority);
    if (host === undefined) return undefined;
    const path = input.path;
    const q = path.indexOf('?');
    const pathOnly = q < 0 ? path : path.slice(0, q);
    let params: URLSearchParams | undefined;
    for (const r of host.rules) {
      if (!pathMatches(r.path, pathOnly)) continue;
      if (r.headers.length > 0 && !headersMatch(r.headers, input)) continue;
      if (r.query.length > 0) {
        params ??= new URLSearchParams(q < 0 ? '' : path.slice(q + 1));
        if (!queryMatches(r.query, params)) continue;
      }
      return r.route;
    }
    return undefined;
  }

  private findHost(authority: string): CompiledHost<T> | undefined {
    const host = authority.toLowerCase();
    const exact = this.exact.get(host);
    if (exact !== undefined) return exact;
    const colon = portColon(host);
    const bare = colon < 0 ? host : host.slice(0, colon);
    if (colon >= 0) {
      const withoutPort = this.exact.get(bare);
      if (withoutPort !== undefined) return withoutPort;
    }
    for (const s of this.suffixes) if (bare.endsWith(s.suffix) && bare.length > s.suffix.length) return s.host;
    return this.star;
  }
}

/** Index of the `:` before a port, or -1 (IPv6 literals are bracketed). */
function portColon(host: string): number {
  const colon = host.lastIndexOf(':');
  if (colon < 0) return -1;
  const bracket = host.lastIndexOf(']');
  return colon > bracket ? colon : -1;
}

function compileRule<T>(vhost: string, rule: RouteRule, resolve: (cluster: string) => T): CompiledRule<T> {
  const backends = new WeightedChoice(rule.clusters.map((c: WeightedCluster) => ({ item: resolve(c.cluster), weight: c.weight })));
  return {
    path: compilePath(rule.path),
    headers: rule.headers,
    query: rule.query,
    route: {
      name: `${vhost}/${rule.name}`,
      rule,
      timeoutMs: rule.timeoutMs,
      backends,
      mirrors: (rule.mirrors ?? []).map((m) => ({ target: resolve(m.cluster), perMillion: m.perMillion })),
    },
  };
}

function compilePath(p: PathMatch): CompiledPath {
  switch (p.type) {
    case 'regex':
      return { type: p.type, value: '', withSlash: '', regex: p.regex };
    case 'segment-prefix': {
      const trimmed = p.value.replace(/\/+$/, '');
      return { type: p.type, value: trimmed, withSlash: trimmed + '/', regex: undefined };
    }
    default:
      return { type: p.type, value: p.value, withSlash: '', regex: undefined };
  }
}

function pathMatches(m: CompiledPath, path: string): boolean {
  switch (m.type) {
    case 'exact':
      return path === m.value;
    case 'prefix':
      return path.startsWith(m.value);
    case 'segment-prefix':
      return m.value === '' || path === m.value || path.startsWith(m.withSlash);
    case 'regex':
      return m.regex!.test(path);
  }
}

function headersMatch(matches: readonly HeaderMatch[], input: RouteInput): boolean {
  for (const h of matches) {
    const v = h.name === ':method' ? input.method : input.header(h.name);
    const m = h.match;
    if (m.type === 'present') {
      if (v === undefined) return false;
    } else if (v === undefined || (m.type === 'exact' ? v !== m.value : !m.regex.test(v))) {
      return false;
    }
  }
  return true;
}

function queryMatches(matches: readonly QueryMatch[], params: URLSearchParams): boolean {
  for (const q of matches) {
    const v = params.get(q.name);
    if (v === null || (q.match.type === 'exact' ? v !== q.match.value : !q.match.regex.test(v))) return false;
  }
  return true;
}
