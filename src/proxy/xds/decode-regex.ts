// Compiles Envoy `safe_regex` patterns (RE2 syntax, full-string match) into SafeRegex, which
// re2js matches in linear time. RE2 is the one syntax: what RE2 refuses (lookaround,
// backreferences) is a problem here exactly as it is at apply time (api/re2.ts).
import { XDS_PROBLEM, show } from './errors.js';
import type { ProblemSink } from './decode-fields.js';
import { SafeRegex } from '../config/safe-regex.js';

/** Compiles an RE2 pattern; records a problem at `path` if it cannot. */
export function compileRe2(s: ProblemSink, pattern: unknown, path: string): SafeRegex | undefined {
  if (typeof pattern !== 'string' || pattern === '') return s.add(path, XDS_PROBLEM.REQUIRED, `required: an RE2 regular expression, got ${show(pattern)}`);
  const r = SafeRegex.compile(pattern);
  if ('error' in r) return s.add(path, XDS_PROBLEM.UNSUPPORTED, `${show(pattern)} is not an RE2 regular expression: ${r.error}`);
  return r;
}
