// How deep each document of a YAML text nests, read from the concrete syntax tree: the yaml
// package builds that tree without recursion but composes documents recursively, so a deeply
// nested document is refused here before composing could exhaust the stack.
import { CST, LineCounter, Parser } from 'yaml';
import { MAX_DOCUMENT_DEPTH } from './raw-document.js';

/** A document (1-based, counted as the composer counts them) nesting deeper than allowed, and where. */
export interface TooDeep {
  document: number;
  /** 1-based line of the first collection past the limit. */
  line: number;
}

/** The offset of the first collection in `token` deeper than `maxDepth` (`token` being level 1), or `undefined`. */
function firstTooDeep(token: CST.Token | undefined, maxDepth: number): number | undefined {
  const stack: [CST.Token, number][] = token ? [[token, 1]] : [];
  while (stack.length > 0) {
    const [t, depth] = stack.pop()!;
    if (!CST.isCollection(t)) continue;
    if (depth > maxDepth) return t.offset;
    for (const item of t.items) {
      if (item.value) stack.push([item.value, depth + 1]);
      if (item.key) stack.push([item.key, depth + 1]);
    }
  }
  return undefined;
}

/** Every document of `text` that nests deeper than `maxDepth` maps and lists. */
export function tooDeepDocuments(text: string, maxDepth = MAX_DOCUMENT_DEPTH): TooDeep[] {
  const out: TooDeep[] = [];
  let document = 0;
  const lines = new LineCounter();
  for (const token of new Parser(lines.addNewLine).parse(text)) {
    if (token.type !== 'document') continue;
    document++;
    const offset = firstTooDeep(token.value, maxDepth);
    if (offset !== undefined) out.push({ document, line: lines.linePos(offset).line });
  }
  return out;
}
