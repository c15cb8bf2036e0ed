// Reading resource files for `apply -f` and `delete -f`: files, directories (their .yaml/.yml/.json),
// or `-` for standard input; parsed and validated locally, every problem one line.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { parseYamlDocuments } from '../api/load-yaml.js';
import { formatProblem } from '../api/problem.js';
import type { Resource } from '../api/resource.js';
import { err, ok, type Result } from '../common/result.js';
import type { CliIo } from './io.js';

const MANIFEST = /\.(ya?ml|json)$/i;

async function expand(file: string): Promise<string[]> {
  if (file === '-') return [file];
  const stat = await fsp.stat(file);
  if (!stat.isDirectory()) return [file];
  return (await fsp.readdir(file))
    .filter((f) => MANIFEST.test(f))
    .sort()
    .map((f) => path.join(file, f));
}

/** Every resource in `files`, in order; or the lines to print (read errors and validation problems), nothing partial. */
export async function readManifests(files: readonly string[], io: CliIo): Promise<Result<Resource[], string[]>> {
  const problems: string[] = [];
  const resources: Resource[] = [];
  for (const given of files) {
    let paths: string[];
    try {
      paths = await expand(given);
    } catch (e) {
      problems.push(`error: cannot read ${given}: ${(e as Error).message}`);
      continue;
    }
    if (paths.length === 0) problems.push(`error: ${given} is a directory without .yaml, .yml or .json files`);
    for (const file of paths) {
      let text: string;
      try {
        text = file === '-' ? await io.readStdin() : await fsp.readFile(file, 'utf8');
      } catch (e) {
        problems.push(`error: cannot read ${file}: ${(e as Error).message}`);
        continue;
      }
      const parsed = parseYamlDocuments(text, file === '-' ? '<stdin>' : file);
      if (parsed.ok) resources.push(...parsed.value);
      else problems.push(...parsed.error.map(formatProblem));
    }
  }
  if (problems.length) return err(problems);
  if (resources.length === 0) return err([`error: no resources found in ${files.join(', ')}`]);
  return ok(resources);
}
