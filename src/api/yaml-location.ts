// Finding where in a YAML document a field path is: the line of its node, or of the nearest ancestor that exists.
import type { Document, LineCounter } from 'yaml';
import { isAlias, isMap, isScalar, isSeq } from 'yaml';
import type { PathSegment } from './problem.js';

type Ranged = { range?: [number, number, number] | null };

function lineAt(node: unknown, lc: LineCounter): number | undefined {
  const range = (node as Ranged | null | undefined)?.range;
  return range ? lc.linePos(range[0]).line : undefined;
}

/**
 * The 1-based line of the node at `path` in `doc`. When the path leads somewhere that does not
 * exist (a required field left out), the line of the deepest ancestor that does; for a map entry,
 * the line of its key (a block value starts on the next line).
 */
export function lineOfPath(doc: Document, path: readonly PathSegment[], lc: LineCounter): number | undefined {
  let node: unknown = doc.contents;
  let line = lineAt(node, lc);
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      line = lineAt(pair.key, lc) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      if (item === undefined) break;
      line = lineAt(item, lc) ?? line;
      node = item;
    } else {
      break;
    }
  }
  return line;
}
