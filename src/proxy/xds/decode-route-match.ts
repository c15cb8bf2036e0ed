// Decodes an Envoy RouteMatch (path specifier, header and query matchers) into the proxy's
// PathMatch, HeaderMatch and QueryMatch. Regexes are RE2 full-string matches (decode-regex).
import type { HeaderMatch, PathMatch, QueryMatch } from '../config/runtime-config.js';
import { XDS_PROBLEM, show } from './errors.js';
import type { ProblemSink } from './decode-fields.js';
import { at, idx, isObj, readList, readName, type Obj } from './decode-fields.js';
import { compileRe2 } from './decode-regex.js';
import { SafeRegex } from '../config/safe-regex.js';

export interface DecodedMatch {
  path: PathMatch;
  headers: HeaderMatch[];
  query: QueryMatch[];
}

const PATH_SPECIFIERS = ['prefix', 'path', 'pathSeparatedPrefix', 'safeRegex'] as const;
/** RouteMatch fields that narrow a match and that the proxy cannot honour: refusing beats matching too much. */
const UNSUPPORTED_MATCH_FIELDS = ['pathMatchPolicy', 'connectMatcher', 'grpc', 'runtimeFraction', 'dynamicMetadata', 'filterState', 'tlsContext'];

/** Decodes `match` of a route at `path`. */
export function decodeRouteMatch(s: ProblemSink, match: Obj, path: string): DecodedMatch | undefined {
  for (const f of UNSUPPORTED_MATCH_FIELDS) {
    if (match[f] !== undefined) s.add(at(path, f), XDS_PROBLEM.UNSUPPORTED, 'not supported by Trellis proxy');
  }
  if (isObj(match.caseSensitive) && match.caseSensitive.value === false) {
    s.add(at(path, 'caseSensitive'), XDS_PROBLEM.UNSUPPORTED, 'case-insensitive path matching is not supported by Trellis proxy');
  }
  const pathMatch = decodePathSpecifier(s, match, path);
  const headers = readList(s, match, 'headers', path).map((h, i) => decodeHeaderMatcher(s, h, idx(at(path, 'headers'), i)));
  const query = readList(s, match, 'queryParameters', path).map((q, i) => decodeQueryMatcher(s, q, idx(at(path, 'queryParameters'), i)));
  if (!pathMatch || headers.some((h) => !h) || query.some((q) => !q)) return undefined;
  return { path: pathMatch, headers: headers as HeaderMatch[], query: query as QueryMatch[] };
}

function decodePathSpecifier(s: ProblemSink, match: Obj, path: string): PathMatch | undefined {
  const present = PATH_SPECIFIERS.filter((f) => match[f] !== undefined);
  if (present.length !== 1) {
    return s.add(
      path,
      present.length === 0 ? XDS_PROBLEM.REQUIRED : XDS_PROBLEM.INVALID,
      `exactly one of ${PATH_SPECIFIERS.join(', ')} is required, got ${present.length === 0 ? 'none' : present.join(', ')}`,
    );
  }
  const field = present[0]!; // exactly one, checked above
  const value = match[field];
  const p = at(path, field);
  if (field === 'safeRegex') {
    if (!isObj(value)) return s.add(p, XDS_PROBLEM.INVALID, `must be a RegexMatcher { regex }, got ${show(value)}`);
    const regex = compileRe2(s, value.regex, at(p, 'regex'));
    return regex ? { type: 'regex', regex } : undefined;
  }
  if (typeof value !== 'string') return s.add(p, XDS_PROBLEM.INVALID, `must be a string, got ${show(value)}`);
  if (field === 'prefix') return { type: 'prefix', value };
  if (field === 'path') return { type: 'exact', value };
  // Envoy's own rule for path_separated_prefix: starts with '/', no '?' or '#', no trailing '/'.
  if (!/^\/[^?#]*[^?#/]$/.test(value)) {
    return s.add(p, XDS_PROBLEM.INVALID, `must start with '/', contain no '?' or '#', and not end with '/', got ${show(value)}`);
  }
  return { type: 'segment-prefix', value };
}

function decodeHeaderMatcher(s: ProblemSink, raw: unknown, path: string): HeaderMatch | undefined {
  if (!isObj(raw)) return s.add(path, XDS_PROBLEM.INVALID, `must be a HeaderMatcher object, got ${show(raw)}`);
  const name = readName(s, raw, 'name', path);
  if (raw.invertMatch === true) s.add(at(path, 'invertMatch'), XDS_PROBLEM.UNSUPPORTED, 'inverted header matches are not supported by Trellis proxy');
  const legacy = ['exactMatch', 'safeRegexMatch', 'rangeMatch', 'prefixMatch', 'suffixMatch', 'containsMatch'].filter((f) => raw[f] !== undefined);
  for (const f of legacy) s.add(at(path, f), XDS_PROBLEM.UNSUPPORTED, 'deprecated matcher not supported by Trellis proxy; use stringMatch');
  const hasString = raw.stringMatch !== undefined;
  const hasPresent = raw.presentMatch !== undefined;
  if (hasString === hasPresent && legacy.length === 0) {
    return s.add(path, XDS_PROBLEM.INVALID, `exactly one of stringMatch and presentMatch is required, got ${hasString ? 'both' : 'neither'}`);
  }
  let match: HeaderMatch['match'] | undefined;
  if (hasPresent && !hasString) {
    if (raw.presentMatch !== true)
      return s.add(at(path, 'presentMatch'), XDS_PROBLEM.UNSUPPORTED, `only presentMatch: true is supported by Trellis proxy, got ${show(raw.presentMatch)}`);
    match = { type: 'present' };
  } else if (hasString) {
    match = decodeStringMatcher(s, raw.stringMatch, at(path, 'stringMatch'));
  }
  if (!name || !match || legacy.length > 0 || raw.invertMatch === true) return undefined;
  return { name: name.toLowerCase(), match };
}

function decodeQueryMatcher(s: ProblemSink, raw: unknown, path: string): QueryMatch | undefined {
  if (!isObj(raw)) return s.add(path, XDS_PROBLEM.INVALID, `must be a QueryParameterMatcher object, got ${show(raw)}`);
  const name = readName(s, raw, 'name', path);
  if (raw.presentMatch !== undefined) return s.add(at(path, 'presentMatch'), XDS_PROBLEM.UNSUPPORTED, 'query presence matches are not supported by Trellis proxy; use stringMatch');
  if (raw.stringMatch === undefined) return s.add(at(path, 'stringMatch'), XDS_PROBLEM.REQUIRED, 'required');
  const match = decodeStringMatcher(s, raw.stringMatch, at(path, 'stringMatch'));
  return name && match ? { name, match } : undefined;
}

const STRING_PATTERNS = ['exact', 'prefix', 'suffix', 'contains', 'safeRegex'] as const;

/** An Envoy StringMatcher as an exact match (case-sensitive exact) or a regex (everything else). */
export function decodeStringMatcher(s: ProblemSink, raw: unknown, path: string): QueryMatch['match'] | undefined {
  if (!isObj(raw)) return s.add(path, XDS_PROBLEM.INVALID, `must be a StringMatcher object, got ${show(raw)}`);
  const present = STRING_PATTERNS.filter((f) => raw[f] !== undefined);
  if (present.length !== 1) {
    return s.add(path, XDS_PROBLEM.INVALID, `exactly one of ${STRING_PATTERNS.join(', ')} is required, got ${present.length === 0 ? 'none' : present.join(', ')}`);
  }
  const field = present[0]!; // exactly one, checked above
  const value = raw[field];
  const ignoreCase = raw.ignoreCase === true;
  if (field === 'safeRegex') {
    // Envoy ignores ignoreCase for safe_regex; so do we.
    if (!isObj(value)) return s.add(at(path, field), XDS_PROBLEM.INVALID, `must be a RegexMatcher { regex }, got ${show(value)}`);
    const regex = compileRe2(s, value.regex, at(at(path, field), 'regex'));
    return regex ? { type: 'regex', regex } : undefined;
  }
  if (typeof value !== 'string') return s.add(at(path, field), XDS_PROBLEM.INVALID, `must be a string, got ${show(value)}`);
  if (field === 'exact' && !ignoreCase) return { type: 'exact', value };
  return { type: 'regex', regex: SafeRegex.literal(field, value, ignoreCase) };
}
