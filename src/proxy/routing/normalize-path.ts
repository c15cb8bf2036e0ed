// Request path normalization, as Envoy's HTTP connection manager does it before any filter
// or route sees the path (`normalize_path`, `merge_slashes`, `path_with_escaped_slashes_action`):
// authorization, routing and the app must all see the same path, or a DENY on `/internal` is
// bypassed by `//internal`, `/./internal`, `/x/../internal` or `/%69nternal`. The query is never touched.
import type { PathNormalization } from '../config/runtime-config.js';

/** Why a path was refused (answered 400), or where an unescaped path is redirected (307). */
export type PathRefusal = { readonly kind: 'reject'; readonly reason: string } | { readonly kind: 'redirect'; readonly location: string };

/**
 * The fast check of the hot path: true when `target`'s path (before `?`) holds nothing any
 * normalization changes or refuses: no `%`, no `\`, no NUL, no `//` and no `/.`.
 */
export function pathIsNormal(target: string): boolean {
  const n = target.length;
  for (let i = 0; i < n; i++) {
    const c = target.charCodeAt(i);
    if (c === 63 /* '?' */) return true;
    if (c === 37 /* '%' */ || c === 92 /* '\' */ || c === 0) return false;
    if (c === 47 /* '/' */) {
      const d = target.charCodeAt(i + 1);
      if (d === 47 || d === 46 /* '.' */) return false;
    }
  }
  return true;
}

/**
 * `target` (origin-form, `/path?query`) normalized under `n`: escaped slashes (`%2F`, `%5C`)
 * handled by `n.escapedSlashes`; with `n.normalizePath`, unreserved characters (RFC 3986 §2.3)
 * percent-decoded, remaining escapes in upper-case hex, `\` made `/`, and dot segments removed
 * (RFC 3986 §5.2.4, `..` above the root stays at the root); with `n.mergeSlashes`, runs of `/`
 * merged, after dot-segment removal as Envoy does. Invalid escapes, `%00` and NUL are refused.
 * Targets that are not origin-form (`*`) are returned as they are.
 */
export function normalizePath(target: string, n: PathNormalization): string | PathRefusal {
  if (target.charCodeAt(0) !== 47 /* '/' */ || pathIsNormal(target)) return target;
  const q = target.indexOf('?');
  const query = q < 0 ? '' : target.slice(q);
  let path = q < 0 ? target : target.slice(0, q);
  let unescapedSlash = false;
  const escapes = path.includes('%') || path.includes('\\') || path.includes('\0');
  if (escapes && (n.normalizePath || n.escapedSlashes !== 'KEEP_UNCHANGED' || path.includes('\0'))) {
    const decoded = decodeEscapes(path, n);
    if (typeof decoded !== 'string') return decoded;
    unescapedSlash = decoded.length !== path.length && n.escapedSlashes !== 'KEEP_UNCHANGED' && ESCAPED_SLASH.test(path);
    path = decoded;
  }
  if (n.normalizePath) path = removeDotSegments(path);
  if (n.mergeSlashes) path = path.replace(MULTIPLE_SLASHES, '/');
  if (unescapedSlash && n.escapedSlashes === 'UNESCAPE_AND_REDIRECT') return { kind: 'redirect', location: path + query };
  return path + query;
}

const ESCAPED_SLASH = /%(2f|5c)/i;
const MULTIPLE_SLASHES = /\/{2,}/g;
const HEX = '0123456789ABCDEF';

/** RFC 3986 §2.3: ALPHA / DIGIT / "-" / "." / "_" / "~". */
function isUnreserved(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** The percent-escape pass: one left-to-right scan, so a decoded `%` never starts a new escape. */
function decodeEscapes(path: string, n: PathNormalization): string | PathRefusal {
  let out = '';
  let from = 0; // start of the run of characters copied as they are
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c !== 37 /* '%' */ && c !== 92 /* '\' */ && c !== 0) continue;
    out += path.slice(from, i);
    from = i + 1;
    if (c === 0) return reject('it contains a NUL character');
    if (c === 92) {
      out += n.normalizePath ? '/' : '\\';
      continue;
    }
    const hi = hexValue(path.charCodeAt(i + 1));
    const lo = hexValue(path.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) {
      if (!n.normalizePath) {
        out += '%';
        continue;
      }
      return reject(`${JSON.stringify(path.slice(i, i + 3))} at offset ${i} is not a valid percent-encoding (% and two hex digits)`);
    }
    const b = hi * 16 + lo;
    i += 2;
    from = i + 1;
    if (b === 0) return reject('it contains an encoded NUL (%00)');
    if (b === 0x2f || b === 0x5c) {
      if (n.escapedSlashes === 'REJECT_REQUEST')
        return reject(
          `it contains an escaped ${b === 0x2f ? 'slash (%2F)' : 'backslash (%5C)'} and the mesh rejects them (MeshConfig pathNormalization.escapedSlashes: REJECT_REQUEST)`,
        );
      if (n.escapedSlashes === 'KEEP_UNCHANGED') out += n.normalizePath ? (b === 0x2f ? '%2F' : '%5C') : path.slice(i - 2, i + 1);
      else out += b === 0x5c && !n.normalizePath ? '\\' : '/';
    } else if (n.normalizePath && isUnreserved(b)) {
      out += String.fromCharCode(b);
    } else {
      out += n.normalizePath ? '%' + HEX[hi] + HEX[lo] : path.slice(i - 2, i + 1);
    }
  }
  return out + path.slice(from);
}

/** RFC 3986 §5.2.4 on an absolute path: `.` segments vanish, `..` removes the segment before it (none above the root). */
export function removeDotSegments(path: string): string {
  if (!path.includes('/.')) return path;
  const segments = path.split('/');
  const out: string[] = [];
  const last = segments.length - 1;
  for (let i = 1; i <= last; i++) {
    const s = segments[i]!;
    if (s === '.' || s === '..') {
      if (s === '..') out.pop();
      // A dot segment at the end leaves the path ending in `/` (`/a/b/..` is `/a/`).
      if (i === last) out.push('');
      continue;
    }
    out.push(s);
  }
  return '/' + out.join('/');
}

function reject(why: string): PathRefusal {
  return { kind: 'reject', reason: why };
}
