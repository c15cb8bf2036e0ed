import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_MESH_CONFIG } from '../../api/resource.js';
import { hcmPathNormalization } from './path-normalization.js';

const mesh = (pathNormalization?: typeof DEFAULT_MESH_CONFIG.pathNormalization) => ({ ...DEFAULT_MESH_CONFIG, ...(pathNormalization ? { pathNormalization } : {}) });

test('Istio modes map onto the real HCM fields; the default is MERGE_SLASHES with escaped slashes kept', () => {
  assert.deepEqual(hcmPathNormalization(mesh()), { normalizePath: { value: true }, mergeSlashes: true, pathWithEscapedSlashesAction: 'KEEP_UNCHANGED' });
  assert.deepEqual(hcmPathNormalization(mesh({ normalization: 'NONE' })), { normalizePath: { value: false }, mergeSlashes: false, pathWithEscapedSlashesAction: 'KEEP_UNCHANGED' });
  assert.deepEqual(hcmPathNormalization(mesh({ normalization: 'BASE' })), { normalizePath: { value: true }, mergeSlashes: false, pathWithEscapedSlashesAction: 'KEEP_UNCHANGED' });
  assert.deepEqual(hcmPathNormalization(mesh({ normalization: 'DECODE_AND_MERGE_SLASHES' })), {
    normalizePath: { value: true },
    mergeSlashes: true,
    pathWithEscapedSlashesAction: 'UNESCAPE_AND_FORWARD',
  });
  assert.deepEqual(hcmPathNormalization(mesh({ normalization: 'MERGE_SLASHES', escapedSlashes: 'REJECT_REQUEST' })).pathWithEscapedSlashesAction, 'REJECT_REQUEST');
});
