// The request-shaping parts of a route in the proxy's RuntimeConfig: header modifications,
// path and host rewrites, redirects and request mirrors. Immutable like the rest of the config.
import type { SafeRegex } from './safe-regex.js';

/** Header changes, applied in this order: remove, set (replace), add (append). Names lower-case. */
export interface HeaderMods {
  readonly remove: readonly string[];
  readonly set: readonly (readonly [string, string])[];
  readonly add: readonly (readonly [string, string])[];
}

export interface RewriteConfig {
  /** Replace the matched prefix `from` (on path-element boundaries) with `to`. */
  readonly prefix?: { readonly from: string; readonly to: string };
  /** Replace what `regex` matches in the path (query kept) with `substitution` (`$1` groups). */
  readonly regex?: { readonly regex: SafeRegex; readonly substitution: string };
  /** New Host / :authority. */
  readonly host?: string;
}

export interface RedirectConfig {
  readonly status: 301 | 302 | 303 | 307 | 308;
  readonly scheme?: string;
  readonly host?: string;
  readonly port?: number;
  /** Replaces the whole path. */
  readonly path?: string;
  /** Replaces the matched prefix. */
  readonly prefix?: { readonly from: string; readonly to: string };
  readonly stripQuery: boolean;
}

/** A copy of each request goes to `cluster` with this probability; its answer is thrown away. */
export interface MirrorConfig {
  readonly cluster: string;
  readonly perMillion: number;
}
