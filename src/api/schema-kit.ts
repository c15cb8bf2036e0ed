// Zod glue: closed objects that name unknown fields, checks with our messages, and issues turned into Problems.
import { z } from 'zod';
import type { Result } from '../common/result.js';
import { err, ok } from '../common/result.js';
import type { PathSegment, Problem } from './problem.js';
import { describeValue, formatPath } from './problem.js';

interface ClosedShape {
  known: readonly string[];
  /** Fields we recognise (e.g. from the Gateway API) but do not implement, with the reason. */
  unsupported: ReadonlyMap<string, string>;
}
// The error map sees the schema that raised `unrecognized_keys`; this tells it which keys were expected.
const closedShapes = new WeakMap<object, ClosedShape>();

/**
 * An object schema that refuses fields it does not declare, so typos (`weigth`) are caught.
 * `unsupported` names fields that exist upstream but that Trellis does not implement.
 */
export function closedObject<S extends z.ZodRawShape>(shape: S, unsupported: Record<string, string> = {}) {
  const schema = z.strictObject(shape);
  closedShapes.set(schema, { known: Object.keys(shape), unsupported: new Map(Object.entries(unsupported)) });
  return schema;
}

/**
 * A closed object with a check across its fields (`superRefine`), still naming unknown fields
 * with suggestions: zod's refinement returns a copy of the schema, which is registered too.
 */
export function refinedObject<S extends z.ZodRawShape>(
  shape: S,
  refine: (value: z.output<z.ZodObject<S, z.core.$strict>>, ctx: z.RefinementCtx<z.output<z.ZodObject<S, z.core.$strict>>>) => void,
  unsupported: Record<string, string> = {},
) {
  const base = closedObject(shape, unsupported);
  const schema = base.superRefine(refine);
  closedShapes.set(schema, closedShapes.get(base)!);
  return schema;
}

/** Adds a check to `schema`: `check` returns the reason the value is wrong, or `undefined`. */
export function checked<T extends z.ZodType>(schema: T, check: (value: z.output<T>) => string | undefined): T {
  return schema.superRefine((value, ctx) => {
    const message = check(value);
    if (message !== undefined) ctx.addIssue({ code: 'custom', message, input: value });
  });
}

/** A raw string → string map (labels, selectors, annotations) with checks on every key and value. */
export function stringMap(checkKey: (k: string) => string | undefined, checkValue: (v: string) => string | undefined) {
  return z.record(z.string(), z.string()).superRefine(
    (map, ctx) => {
      if (typeof map !== 'object' || map === null || Array.isArray(map)) return;
      for (const [k, v] of Object.entries(map)) {
        const keyProblem = checkKey(k);
        if (keyProblem !== undefined) ctx.addIssue({ code: 'custom', message: keyProblem, path: [k], input: k });
        const valueProblem = typeof v === 'string' ? checkValue(v) : undefined;
        if (valueProblem !== undefined) ctx.addIssue({ code: 'custom', message: valueProblem, path: [k], input: v });
      }
    },
    { when: () => true },
  );
}

/**
 * Adds a check to an array schema that every item's key (by `keyOf`) is unique.
 * Runs even when some items are malformed, so duplicates are reported alongside other problems;
 * `keyOf` therefore sees raw items and returns `undefined` for ones it cannot read.
 */
export function uniqueItems<T extends z.ZodArray>(schema: T, listName: string, field: PathSegment[], keyOf: (item: unknown) => string | number | undefined, what: string): T {
  return schema.superRefine(
    (items: unknown, ctx) => {
      if (!Array.isArray(items)) return;
      const seen = new Map<string | number, number>();
      items.forEach((item, i) => {
        const key = keyOf(item);
        if (key === undefined) return;
        const first = seen.get(key);
        if (first === undefined) seen.set(key, i);
        else ctx.addIssue({ code: 'custom', message: `duplicate ${what} ${describeValue(key)}, already used by ${listName}[${first}]`, path: [i, ...field], input: key });
      });
    },
    { when: () => true },
  );
}

/** Reads `obj[field]` of a raw value when it is an object, for checks that see unparsed items. */
export const fieldOf = (obj: unknown, field: string): unknown => (typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>)[field] : undefined);

const TYPE_NAMES: Record<string, string> = {
  object: 'a map',
  record: 'a map',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
};

function rangeMessage(iss: { origin: string; input: unknown; inclusive?: boolean }, bound: number | bigint, side: 'min' | 'max'): string {
  const op = side === 'min' ? (iss.inclusive ? '>=' : '>') : iss.inclusive ? '<=' : '<';
  if (iss.origin === 'array' && Array.isArray(iss.input)) {
    const count = iss.input.length;
    return side === 'min' ? `must have at least ${bound} item(s), got ${count}` : `must have at most ${bound} item(s), got ${count}`;
  }
  if (iss.origin === 'string' && typeof iss.input === 'string') {
    if (side === 'min' && Number(bound) === 1) return 'must not be empty';
    return `must be ${side === 'min' ? 'at least' : 'at most'} ${bound} characters, got ${iss.input.length}`;
  }
  return `must be ${op} ${bound}, got ${describeValue(iss.input)}`;
}

/** Suggests the known key closest to a misspelt one. */
function suggestion(key: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = k.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(key.length / 3)) ? ` (did you mean "${best}"?)` : '';
}

/** Edit distance counting a swap of neighbours as one edit (`weigth` → `weight`), as typos go. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** Message for one unknown key of a closed object. */
function unknownFieldMessage(key: string, shape: ClosedShape | undefined): string {
  const reason = shape?.unsupported.get(key);
  if (reason !== undefined) return `field "${key}" is not supported: ${reason}`;
  return `unknown field "${key}"` + (shape ? suggestion(key, shape.known) : '');
}

// Internal contract with toProblems: an unrecognized_keys message holds one line per key, in key order.
const errorMap: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case 'invalid_type':
      if (iss.input === undefined) return 'required';
      // YAML reads unquoted `1` or `true` as a number or boolean; label values must be strings.
      if (iss.expected === 'string' && (typeof iss.input === 'number' || typeof iss.input === 'boolean')) {
        return `must be a string, got ${describeValue(iss.input)} (quote it in YAML: "${iss.input}")`;
      }
      return `must be ${TYPE_NAMES[iss.expected] ?? iss.expected}, got ${describeValue(iss.input)}`;
    case 'too_small':
      return rangeMessage(iss, iss.minimum, 'min');
    case 'too_big':
      return rangeMessage(iss, iss.maximum, 'max');
    case 'invalid_value': {
      const values = iss.values.map((v) => describeValue(v));
      const expected = values.length === 1 ? values[0] : `one of ${values.join(', ')}`;
      return `must be ${expected}, got ${describeValue(iss.input)}`;
    }
    case 'unrecognized_keys': {
      const shape = iss.inst ? closedShapes.get(iss.inst) : undefined;
      return iss.keys.map((k) => unknownFieldMessage(k, shape)).join('\n');
    }
    default:
      return undefined;
  }
};

/** Turns zod issues into Problems: paths in `a.b[0].c` form, one Problem per unknown key. */
function toProblems(issues: readonly z.core.$ZodIssue[], base: readonly PathSegment[]): Problem[] {
  const out: Problem[] = [];
  for (const iss of issues) {
    const path = [...base, ...(iss.path.filter((s) => typeof s !== 'symbol') as PathSegment[])];
    if (iss.code === 'unrecognized_keys') {
      const lines = iss.message.split('\n');
      iss.keys.forEach((k, i) => out.push({ path: formatPath([...path, k]), message: lines[i] ?? `unknown field "${k}"` }));
    } else if (iss.code === 'invalid_union' || iss.code === 'invalid_key' || iss.code === 'invalid_element') {
      // Nested issues carry the real reasons; report those rather than the wrapper.
      const nested = 'issues' in iss ? iss.issues : iss.errors.flat();
      out.push(...(nested.length ? toProblems(nested, path) : [{ path: formatPath(path), message: 'is not valid' }]));
    } else {
      out.push({ path: formatPath(path), message: iss.message });
    }
  }
  return out;
}

/** Parses `raw` with `schema`; on failure returns every problem, with paths prefixed by `base`. */
export function parseWithSchema<T extends z.ZodType>(schema: T, raw: unknown, base: readonly PathSegment[] = []): Result<z.output<T>, Problem[]> {
  const r = schema.safeParse(raw, { error: errorMap });
  return r.success ? ok(r.data) : err(toProblems(r.error.issues, base));
}
