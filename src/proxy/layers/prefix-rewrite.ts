// Replacing a matched path prefix on path-element boundaries (Gateway API ReplacePrefixMatch):
// `/foo` → `/bar` turns `/foo/x?q` into `/bar/x?q`; → `/` turns it into `/x?q`.

/** `path` (with its query) with `from` replaced by `to`; unchanged when it does not start with `from`. */
export function replacePrefix(path: string, from: string, to: string): string {
  if (!path.startsWith(from)) return path;
  const rest = path.slice(from.length);
  const base = to.endsWith('/') ? to.slice(0, -1) : to;
  const joined = rest === '' || rest.startsWith('/') || rest.startsWith('?') ? base + rest : `${base}/${rest}`;
  return joined === '' || joined.startsWith('?') ? `/${joined}` : joined;
}
