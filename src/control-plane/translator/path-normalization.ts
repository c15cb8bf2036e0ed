// The HTTP connection manager's path fields from MeshConfig.spec.pathNormalization, mapped as
// Istio maps its modes onto Envoy: BASE is normalize_path, MERGE_SLASHES adds merge_slashes,
// DECODE_AND_MERGE_SLASHES also unescapes %2F and %5C; `escapedSlashes` overrides that action.
// Always written out, so a proxy (Trellis or Envoy) never falls back to its own defaults.
import type { EscapedSlashesPolicy, MeshConfigSpec, PathNormalizationMode } from '../../api/resource.js';
import { DEFAULT_PATH_NORMALIZATION } from '../../api/mesh-config.js';

export interface HcmPathNormalization {
  normalizePath?: { value: boolean };
  mergeSlashes?: boolean;
  pathWithEscapedSlashesAction?: EscapedSlashesPolicy;
}

const MODES: Readonly<Record<PathNormalizationMode, { normalize: boolean; merge: boolean; escaped: EscapedSlashesPolicy }>> = {
  NONE: { normalize: false, merge: false, escaped: 'KEEP_UNCHANGED' },
  BASE: { normalize: true, merge: false, escaped: 'KEEP_UNCHANGED' },
  MERGE_SLASHES: { normalize: true, merge: true, escaped: 'KEEP_UNCHANGED' },
  DECODE_AND_MERGE_SLASHES: { normalize: true, merge: true, escaped: 'UNESCAPE_AND_FORWARD' },
};

export function hcmPathNormalization(mesh: MeshConfigSpec): HcmPathNormalization {
  const spec = mesh.pathNormalization;
  const mode = MODES[spec?.normalization ?? DEFAULT_PATH_NORMALIZATION];
  return { normalizePath: { value: mode.normalize }, mergeSlashes: mode.merge, pathWithEscapedSlashesAction: spec?.escapedSlashes ?? mode.escaped };
}
