// Checks on a raw document (from JSON or YAML) before any schema reads it: how deep it nests,
// how large it is, and keys a JavaScript object cannot hold as data.
import type { PathSegment, Problem } from './problem.js';
import { formatPath } from './problem.js';

/**
 * How deep a document may nest (maps and lists; the document itself is level 1). The deepest
 * real resource nests about 10 levels; deeper input is refused before any recursive code sees it.
 */
export const MAX_DOCUMENT_DEPTH = 64;

/**
 * The largest resource accepted, as compact JSON. Every resource reaches proxies inside one xDS
 * message (see XDS_MAX_MESSAGE_BYTES); Kubernetes bounds annotations to the same 256 KiB.
 */
export const MAX_RESOURCE_BYTES = 256 * 1024;

/**
 * Keys refused anywhere in a document. `__proto__` cannot be an own data key of a plain object:
 * assigning it replaces the prototype, so it would be dropped (or worse) instead of stored.
 * (`constructor` and `prototype` are valid label keys and are kept as own data properties.)
 */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__']);

interface Visit {
  value: unknown;
  depth: number;
  parent: Visit | undefined;
  segment: PathSegment | undefined;
}

function pathOf(v: Visit): string {
  const segments: PathSegment[] = [];
  for (let at: Visit | undefined = v; at?.segment !== undefined; at = at.parent) segments.push(at.segment);
  return formatPath(segments.reverse());
}

export const tooDeepMessage = (maxDepth: number): string => `document nests deeper than ${maxDepth} levels (maps and lists inside each other); no resource needs more`;

/**
 * Problems with the shape of `raw`: the first place it nests deeper than `maxDepth`, and every
 * reserved key (with its path). Iterative, so no input can exhaust the stack.
 */
export function checkRawShape(raw: unknown, maxDepth = MAX_DOCUMENT_DEPTH): Problem[] {
  const problems: Problem[] = [];
  const stack: Visit[] = [{ value: raw, depth: 1, parent: undefined, segment: undefined }];
  while (stack.length > 0) {
    const v = stack.pop()!;
    const { value } = v;
    if (typeof value !== 'object' || value === null) continue;
    if (v.depth > maxDepth) {
      problems.push({ path: pathOf(v), message: tooDeepMessage(maxDepth) });
      break;
    }
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], depth: v.depth + 1, parent: v, segment: i });
      continue;
    }
    const keys = Object.keys(value);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      const child: Visit = { value: (value as Record<string, unknown>)[key], depth: v.depth + 1, parent: v, segment: key };
      if (RESERVED_KEYS.has(key))
        problems.push({ path: pathOf(child), message: `key ${JSON.stringify(key)} is not allowed (it names the object prototype in JavaScript and cannot be stored)` });
      else stack.push(child);
    }
  }
  return problems;
}

const utf8 = new TextEncoder();

/** Why a (shape-checked) resource document is too large to deliver, or `undefined`. */
export function checkResourceSize(raw: unknown, maxBytes = MAX_RESOURCE_BYTES): Problem | undefined {
  const bytes = utf8.encode(JSON.stringify(raw) ?? '').length;
  if (bytes <= maxBytes) return undefined;
  return { path: '', message: `the resource is ${bytes} bytes as JSON; at most ${maxBytes} bytes are accepted per resource` };
}
