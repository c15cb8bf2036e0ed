// Test support for parsers: assert a problem at an exact path, edit raw documents by path, round-trip through YAML.
import assert from 'node:assert/strict';
import { parse as parseYaml, stringify } from 'yaml';
import type { Result } from '../common/result.js';
import type { PathSegment, Problem } from './problem.js';
import { formatProblem, parsePath } from './problem.js';

/** Marks a field to delete in {@link withField}. */
export const DELETE = Symbol('delete');

/** A deep copy of `doc` with the field at `path` (e.g. `spec.ports[0].port`) set to `value`, or deleted. */
export function withField<T>(doc: T, path: string, value: unknown): T {
  const copy = structuredClone(doc) as unknown;
  const segments = parsePath(path);
  assert.ok(segments && segments.length > 0, `bad test path ${path}`);
  let node = copy as Record<PathSegment, unknown>;
  segments.slice(0, -1).forEach((s, i) => {
    // A missing container is a list when the next segment is an index.
    if (node[s] === undefined || node[s] === null) node[s] = typeof segments[i + 1] === 'number' ? [] : {};
    node = node[s] as Record<PathSegment, unknown>;
  });
  const last = segments[segments.length - 1]!;
  if (value === DELETE) delete node[last];
  else node[last] = value;
  return copy as T;
}

/** Asserts `result` failed with a problem at exactly `path` whose message contains `fragment`. */
export function assertProblem(result: Result<unknown, readonly Problem[]>, path: string, fragment: string): void {
  assert.equal(result.ok, false, `expected problems, got ${JSON.stringify(result.ok ? result.value : undefined)}`);
  if (result.ok) return;
  const found = result.error.some((p) => p.path === path && p.message.includes(fragment));
  assert.ok(found, `no problem at ${path} containing ${JSON.stringify(fragment)}; got:\n  ${result.error.map(formatProblem).join('\n  ')}`);
}

/** Asserts `result` succeeded and returns its value. */
export function assertOk<T>(result: Result<T, readonly Problem[]>): T {
  if (!result.ok) assert.fail(`expected success, got:\n  ${result.error.map(formatProblem).join('\n  ')}`);
  return result.value;
}

/** Asserts that parsing the YAML rendering of a parsed value gives the same value (canonical form is stable). */
export function assertRoundTrip<T>(parse: (raw: unknown) => Result<T, Problem[]>, value: T): void {
  assert.deepEqual(assertOk(parse(parseYaml(stringify(value)))), value);
}
