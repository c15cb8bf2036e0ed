// Problems found while parsing configuration: a field path, a reason, and where in a file it was.

/** One thing wrong with a resource: the field path (`spec.rules[2].backendRefs[0].weight`) and why. */
export interface Problem {
  /** Field path from the document root; `''` means the document itself. */
  path: string;
  /** The reason, naming the value and what was expected (`must be >= 0, got -1`). */
  message: string;
}

/** A {@link Problem} placed in a file: which document, which resource, which line. */
export interface LocatedProblem extends Problem {
  file?: string;
  /** 1-based index of the YAML document in the file. */
  document?: number;
  /** 1-based line of the offending node (or of the document when the node is missing). */
  line?: number;
  /** The resource as `Kind namespace/name` when known, e.g. `HTTPRoute default/split`. */
  resource?: string;
}

/** One step of a field path: an object key or an array index. */
export type PathSegment = string | number;

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Renders path segments as `spec.rules[2].backendRefs[0].weight`; odd keys as `labels["app.kubernetes.io/name"]`. */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (PLAIN_KEY.test(s)) out += out === '' ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

/** The inverse of {@link formatPath}; `undefined` when the text is not a path it could have produced. */
export function parsePath(path: string): PathSegment[] | undefined {
  const segments: PathSegment[] = [];
  const re = /\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\.?([A-Za-z_][A-Za-z0-9_-]*)/y;
  let at = 0;
  while (at < path.length) {
    re.lastIndex = at;
    const m = re.exec(path);
    // A leading dot is only valid between segments.
    if (!m || (at === 0 && m[0].startsWith('.')) || (at > 0 && m[3] !== undefined && !m[0].startsWith('.'))) return undefined;
    if (m[1] !== undefined) segments.push(Number(m[1]));
    else if (m[2] !== undefined) segments.push(JSON.parse(m[2]) as string);
    else segments.push(m[3]!);
    at = re.lastIndex;
  }
  return segments;
}

/** Prefixes every problem's path with `prefix` (a path in {@link formatPath} form). */
export function underPath(prefix: string, problems: readonly Problem[]): Problem[] {
  return problems.map((p) => ({ ...p, path: p.path === '' ? prefix : p.path.startsWith('[') ? prefix + p.path : `${prefix}.${p.path}` }));
}

const MAX_SHOWN = 60;

/** A short, unambiguous rendering of a value for messages: `-1`, `"8080"`, `null`, `a list`. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') {
    const s = JSON.stringify(v);
    return s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN - 4)}..." (${v.length} characters)` : s;
  }
  return String(v);
}

/**
 * One line per problem, e.g.
 * `routes.yaml: document 2 (HTTPRoute default/split), line 14: spec.rules[0].backendRefs[1].weight: must be >= 0, got -1`.
 */
export function formatProblem(p: Problem | LocatedProblem): string {
  const lp = p as LocatedProblem;
  const where: string[] = [];
  if (lp.document !== undefined) where.push(`document ${lp.document}` + (lp.resource ? ` (${lp.resource})` : ''));
  else if (lp.resource) where.push(lp.resource);
  if (lp.line !== undefined) where.push(`line ${lp.line}`);
  let head = where.join(', ');
  if (lp.file) head = head ? `${lp.file}: ${head}` : lp.file;
  const tail = p.path ? `${p.path}: ${p.message}` : p.message;
  return head ? `${head}: ${tail}` : tail;
}
