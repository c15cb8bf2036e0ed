// Compiles Envoy `safe_regex` patterns (RE2 syntax, full-string match) into JavaScript
// RegExps. RE2 and JavaScript share most syntax; what RE2 lacks (lookaround, backreferences)
// is refused so the Trellis proxy and Envoy accept the same routes, and what JavaScript
// spells differently (`(?P<name>`, leading `(?i)`, `\A`, `\z`) is translated.
import { XDS_PROBLEM, show } from './errors.js';
import type { ProblemSink } from './decode-fields.js';

/** The JavaScript source and flags for an RE2 pattern, or why it cannot be used. */
export function translateRe2(pattern: string): { source: string; flags: string } | { error: string } {
  let flags = '';
  let rest = pattern;
  const lead = /^\(\?([ims]+)\)/.exec(rest);
  if (lead) {
    flags = [...new Set(lead[1])].join('');
    rest = rest.slice(lead[0].length);
  }
  let out = '';
  let inClass = false;
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i];
    if (c === '\\') {
      const n = rest[i + 1] ?? '';
      if (!inClass && /[1-9]/.test(n)) return { error: `backreference \\${n} is not supported (RE2, Envoy's regex engine, has no backreferences)` };
      if (n === 'k' && rest[i + 2] === '<') return { error: 'named backreference \\k<...> is not supported (RE2, Envoy\'s regex engine, has no backreferences)' };
      if (!inClass && n === 'A') out += '^';
      else if (!inClass && n === 'z') out += '$';
      else out += c + n;
      i++;
      continue;
    }
    if (inClass) {
      if (c === '[' && rest[i + 1] === ':') return { error: 'POSIX character classes like [[:alpha:]] are not supported; use an explicit range such as [a-zA-Z]' };
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      // A `]` right after `[` or `[^` is a literal in both dialects; copy it so it does not close the class.
      if (rest[i + 1] === '^') out += rest[++i];
      if (rest[i + 1] === ']') out += rest[++i];
      continue;
    }
    if (c === '(' && rest[i + 1] === '?') {
      const after = rest.slice(i + 2);
      if (after.startsWith('=') || after.startsWith('!')) return { error: 'lookahead (?= or (?! is not supported (RE2, Envoy\'s regex engine, has no lookaround)' };
      if (after.startsWith('<=') || after.startsWith('<!')) return { error: 'lookbehind (?<= or (?<! is not supported (RE2, Envoy\'s regex engine, has no lookaround)' };
      if (after.startsWith('P<')) {
        out += '(?<';
        i += 3;
        continue;
      }
      if (!after.startsWith(':') && !after.startsWith('<')) return { error: 'inline flags are only supported as a group at the start of the pattern, like (?i)' };
    }
    out += c;
  }
  return { source: `^(?:${out})$`, flags };
}

/** Compiles an RE2 pattern for a full-string match; records a problem at `path` if it cannot. */
export function compileRe2(s: ProblemSink, pattern: unknown, path: string, extraFlags = ''): RegExp | undefined {
  if (typeof pattern !== 'string' || pattern === '') return s.add(path, XDS_PROBLEM.REQUIRED, `required: an RE2 regular expression, got ${show(pattern)}`);
  const t = translateRe2(pattern);
  if ('error' in t) return s.add(path, XDS_PROBLEM.UNSUPPORTED, `${show(pattern)}: ${t.error}`);
  try {
    return new RegExp(t.source, [...new Set(t.flags + extraFlags)].join(''));
  } catch (e) {
    return s.add(path, XDS_PROBLEM.INVALID, `${show(pattern)} is not a valid regular expression: ${(e as Error).message}`);
  }
}

/** A RegExp matching strings that start with `prefix` (literally). */
export function prefixRegex(prefix: string, ignoreCase: boolean): RegExp {
  return new RegExp(`^${escapeRegex(prefix)}`, ignoreCase ? 'i' : '');
}

/** A RegExp matching exactly `value`, literally. */
export function exactRegex(value: string, ignoreCase: boolean): RegExp {
  return new RegExp(`^${escapeRegex(value)}$`, ignoreCase ? 'i' : '');
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
