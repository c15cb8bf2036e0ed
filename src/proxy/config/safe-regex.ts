// A compiled RE2 pattern, Envoy's safe_regex: matched by re2js in time linear in the input, so
// no route, header, query or retry pattern can stall the proxy however it is written. Compiled
// once per config snapshot; matching keeps no state between calls.
import { RE2JS } from 're2js';
import { compileRe2 } from '../../api/re2.js';

/** How a literal StringMatcher compares (exact, prefix, suffix or contains), for case-insensitive forms. */
export type LiteralKind = 'exact' | 'prefix' | 'suffix' | 'contains';

const ANY = '(?s:.*)';

export class SafeRegex {
  private constructor(
    /** The RE2 pattern, for dumps and errors. */
    readonly source: string,
    private readonly re: RE2JS,
  ) {}

  /** `pattern` (RE2 syntax) compiled, or why it cannot be. */
  static compile(pattern: string, ignoreCase = false): SafeRegex | { readonly error: string } {
    const r = compileRe2(pattern, ignoreCase ? RE2JS.CASE_INSENSITIVE : 0);
    return r.ok ? new SafeRegex(pattern, r.value) : { error: r.reason };
  }

  /** A pattern matching values that equal, start with, end with or contain `value` literally. */
  static literal(kind: LiteralKind, value: string, ignoreCase: boolean): SafeRegex {
    const q = RE2JS.quote(value);
    const pattern = kind === 'exact' ? q : kind === 'prefix' ? q + ANY : kind === 'suffix' ? ANY + q : ANY + q + ANY;
    return new SafeRegex(pattern, RE2JS.compile(pattern, ignoreCase ? RE2JS.CASE_INSENSITIVE : 0));
  }

  /** True when the whole of `value` matches (safe_regex is a full-string match). */
  test(value: string): boolean {
    return this.re.testExact(value);
  }

  /** `input` with every match replaced by `substitution` (JavaScript replace syntax: `$1`, `$$`). */
  replaceAll(input: string, substitution: string): string {
    return this.re.matcher(input).replaceAll(substitution);
  }

  toJSON(): string {
    return this.source;
  }
}
