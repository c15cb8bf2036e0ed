// The dashboard's files: its own (src/dashboard/assets, plain browser JavaScript, HTML and CSS)
// and the front-end libraries it uses, served from their npm packages' dist files (cytoscape
// for the topology graph, uPlot for the charts). Nothing is fetched from the internet.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** A file the dashboard serves: where it is and its content type. */
export interface StaticFile {
  readonly file: string;
  readonly type: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The assets folder in the source tree (this module runs from dist/src/dashboard or src/dashboard). */
function assetsDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const root = here.includes(`${path.sep}dist${path.sep}`) ? path.resolve(here, '../../..') : path.resolve(here, '../..');
  return path.join(root, 'src/dashboard/assets');
}

/** A file in a package's dist folder (uplot's `exports` map hides package.json, so resolve its main file, which is in dist/). */
function distFile(pkg: string, name: string): string {
  return path.join(path.dirname(require.resolve(pkg)), name);
}

/** URL path under /dashboard/ -> file. */
export function staticFiles(): Map<string, StaticFile> {
  const dir = assetsDir();
  const files = new Map<string, StaticFile>();
  for (const name of ['index.html', 'app.js', 'views.js', 'api.js', 'style.css']) files.set(name, { file: path.join(dir, name), type: TYPES[path.extname(name)]! });
  files.set('vendor/cytoscape.min.js', { file: distFile('cytoscape', 'cytoscape.min.js'), type: TYPES['.js']! });
  files.set('vendor/uPlot.iife.min.js', { file: distFile('uplot', 'uPlot.iife.min.js'), type: TYPES['.js']! });
  files.set('vendor/uPlot.min.css', { file: distFile('uplot', 'uPlot.min.css'), type: TYPES['.css']! });
  return files;
}

/** Reads every file once (they are small; the dashboard must load fast). */
export function loadFiles(files: Map<string, StaticFile>): Map<string, { body: Buffer; type: string }> {
  const out = new Map<string, { body: Buffer; type: string }>();
  for (const [p, f] of files) out.set(p, { body: readFileSync(f.file), type: f.type });
  return out;
}
