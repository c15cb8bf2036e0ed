#!/usr/bin/env node
// Writes src/xds/generated/proxy-envoy-types.json: the Envoy types a proxy decodes, cut out of
// the full .proto tree (see src/xds/envoy-subset.ts). Run after `npm run build` when the
// messages the proxy uses change; src/xds/proxy-protos.test.ts fails while the file is stale.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { envoyRoot } = await import(path.join(root, 'dist/src/xds/protos.js'));
const { envoySubset } = await import(path.join(root, 'dist/src/xds/envoy-subset.js'));
const out = path.join(root, 'src/xds/generated/proxy-envoy-types.json');
writeFileSync(out, JSON.stringify(envoySubset(envoyRoot())) + '\n');
console.log(`wrote ${path.relative(root, out)}`);
