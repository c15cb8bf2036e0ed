// Parsing a multi-document YAML file into resources, all or nothing, with problems placed by document and line.
import type { Document } from 'yaml';
import { LineCounter, parseAllDocuments } from 'yaml';
import type { Result } from '../common/result.js';
import { err, ok } from '../common/result.js';
import type { Resource } from './resource.js';
import { CLUSTER_SCOPED_KINDS, formatKey, resourceKey } from './resource.js';
import { DEFAULT_NAMESPACE } from './metadata.js';
import { parseResource } from './parse.js';
import type { LocatedProblem } from './problem.js';
import { parsePath } from './problem.js';
import { lineOfPath } from './yaml-location.js';
import { tooDeepMessage, MAX_DOCUMENT_DEPTH } from './raw-document.js';
import { tooDeepDocuments } from './yaml-nesting.js';

// Aliases can expand exponentially ("billion laughs"); no real resource needs many.
const MAX_ALIAS_COUNT = 100;

/** `Kind namespace/name` read from a raw document that may not be valid, for locating its problems. */
function describeRaw(raw: unknown): string | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { kind, metadata } = raw as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  if (typeof kind !== 'string') return undefined;
  const name = typeof metadata?.name === 'string' ? metadata.name : undefined;
  if (name === undefined) return kind;
  const clusterScoped = (CLUSTER_SCOPED_KINDS as readonly string[]).includes(kind);
  const namespace = clusterScoped ? undefined : typeof metadata?.namespace === 'string' ? metadata.namespace : DEFAULT_NAMESPACE;
  return namespace ? `${kind} ${namespace}/${name}` : `${kind} ${name}`;
}

/** The first line of a yaml error message, without the position the located problem already carries. */
function syntaxMessage(message: string): string {
  const first = message.split('\n', 1)[0]!.replace(/ at line \d+, column \d+:?$/, '');
  return `YAML syntax error: ${first}`;
}

/**
 * Parses every document of a YAML file (`---`-separated) into canonical resources. Empty
 * documents are skipped. All or nothing: when any document has a problem (YAML syntax, an
 * invalid resource, the same kind/namespace/name defined twice) the result is every problem
 * in the file, each naming the file, the 1-based document, the resource and the line.
 */
export function parseYamlDocuments(text: string, file: string): Result<Resource[], LocatedProblem[]> {
  const lineCounter = new LineCounter();
  // Refused before composing, which recurses once per level.
  const tooDeep = tooDeepDocuments(text);
  if (tooDeep.length > 0) {
    return err(tooDeep.map(({ document, line }) => ({ file, document, line, path: '', message: tooDeepMessage(MAX_DOCUMENT_DEPTH) })));
  }
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: true, uniqueKeys: true }) as Document[] & { errors?: Error[] };
  const problems: LocatedProblem[] = [];
  const resources: Resource[] = [];
  const seen = new Map<string, number>();

  // A stream with no documents can still hold errors (e.g. a stray `...` or directives alone).
  if (!Array.isArray(docs) || docs.length === 0) {
    for (const e of (docs as { errors?: Error[] }).errors ?? []) problems.push({ file, ...lineField(linePosOf(e)), path: '', message: syntaxMessage(e.message) });
    return problems.length ? err(problems) : ok([]);
  }

  docs.forEach((doc, i) => {
    const document = i + 1;
    if (doc.errors.length > 0) {
      for (const e of doc.errors) problems.push({ file, document, ...lineField(linePosOf(e)), path: '', message: syntaxMessage(e.message) });
      return;
    }
    if (doc.contents === null) return;
    let raw: unknown;
    try {
      raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      problems.push({ file, document, ...lineField(lineOfPath(doc, [], lineCounter)), path: '', message: `YAML error: ${(e as Error).message}` });
      return;
    }
    if (raw === null || raw === undefined) return;

    const parsed = parseResource(raw);
    if (!parsed.ok) {
      const resource = describeRaw(raw);
      const located = parsed.error.map((p): LocatedProblem => ({
        file,
        document,
        ...(resource ? { resource } : {}),
        ...lineField(lineOfPath(doc, parsePath(p.path) ?? [], lineCounter)),
        path: p.path,
        message: p.message,
      }));
      // Read top to bottom: in line order (the sort is stable, so problems on one line keep their order).
      problems.push(...located.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)));
      return;
    }
    const key = formatKey(resourceKey(parsed.value));
    const first = seen.get(key);
    if (first !== undefined) {
      const line = lineOfPath(doc, ['metadata', 'name'], lineCounter);
      problems.push({ file, document, resource: key, ...lineField(line), path: 'metadata.name', message: `${key} is already defined in document ${first} of this file` });
      return;
    }
    seen.set(key, document);
    resources.push(parsed.value);
  });
  return problems.length ? err(problems) : ok(resources);
}

function linePosOf(e: Error): number | undefined {
  return (e as { linePos?: [{ line: number }] }).linePos?.[0].line;
}

const lineField = (line: number | undefined): { line?: number } => (line !== undefined ? { line } : {});
