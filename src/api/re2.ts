// RE2, the regular expression syntax of every pattern in routes and policies: what Envoy's
// safe_regex and the Trellis proxy (re2js, linear time) match with. RE2 has no backtracking,
// so no backreferences and no lookaround; a pattern is refused at apply time, not on the proxy.
import { RE2JS } from 're2js';
import { describeValue } from './problem.js';

/** A pattern compiled as RE2, or why it is not one (a reason naming what RE2 does not support). */
export function compileRe2(pattern: string, flags = 0): { ok: true; value: RE2JS } | { ok: false; reason: string } {
  try {
    return { ok: true, value: RE2JS.compile(pattern, flags) };
  } catch (e) {
    return { ok: false, reason: explain(pattern, (e as Error).message) };
  }
}

/** Why `pattern` is not a valid RE2 regular expression, or `undefined` when it is one. */
export function checkRe2(pattern: string): string | undefined {
  const r = compileRe2(pattern);
  return r.ok ? undefined : `must be a valid regular expression in RE2 syntax (what Envoy and the Trellis proxy match with): ${r.reason}, got ${describeValue(pattern)}`;
}

/** RE2's own message, with the constructs people bring from backtracking engines named. */
function explain(pattern: string, message: string): string {
  const reason = message.replace(/^error parsing regexp: /, '');
  if (/\(\?<[=!]/.test(pattern)) return `lookbehind (?<= or (?<! is not supported by RE2 (${reason})`;
  if (/\(\?[=!]/.test(pattern)) return `lookahead (?= or (?! is not supported by RE2 (${reason})`;
  if (/\\[1-9]|\\k<|\(\?P=/.test(pattern)) return `backreferences (\\1, \\k<name>, (?P=name)) are not supported by RE2 (${reason})`;
  if (/[*+?}][+]/.test(pattern) && /nested repetition/.test(reason)) return `possessive quantifiers (a++) are not supported by RE2 (${reason})`;
  return reason;
}
