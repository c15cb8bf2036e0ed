// Decodes the HTTP connection manager's path settings (`normalizePath`, `mergeSlashes`,
// `pathWithEscapedSlashesAction`) into the listener's PathNormalization. Envoy's defaults
// (all off, escaped slashes kept) mean no normalization: undefined.
import type { EscapedSlashesAction, PathNormalization } from '../config/runtime-config.js';
import { XDS_PROBLEM, show } from './errors.js';
import { at, isObj, type Obj, type ProblemSink } from './decode-fields.js';

const ACTIONS: readonly EscapedSlashesAction[] = ['KEEP_UNCHANGED', 'REJECT_REQUEST', 'UNESCAPE_AND_REDIRECT', 'UNESCAPE_AND_FORWARD'];

export function decodePathNormalization(s: ProblemSink, hcm: Obj, path: string): PathNormalization | undefined {
  const before = s.problems.length;
  // normalize_path is a BoolValue ({ value }); merge_slashes a plain bool.
  const np = hcm.normalizePath;
  if (np !== undefined && np !== null && !(isObj(np) && (np.value === undefined || typeof np.value === 'boolean')))
    s.add(at(path, 'normalizePath'), XDS_PROBLEM.INVALID, `must be a BoolValue { value }, got ${show(np)}`);
  const normalizePath = isObj(np) && np.value === true;
  const ms = hcm.mergeSlashes;
  if (ms !== undefined && ms !== null && typeof ms !== 'boolean') s.add(at(path, 'mergeSlashes'), XDS_PROBLEM.INVALID, `must be a boolean, got ${show(ms)}`);
  const mergeSlashes = ms === true;
  const raw = hcm.pathWithEscapedSlashesAction ?? 'IMPLEMENTATION_SPECIFIC_DEFAULT';
  // Envoy's implementation-specific default is KEEP_UNCHANGED.
  const escapedSlashes = raw === 'IMPLEMENTATION_SPECIFIC_DEFAULT' ? 'KEEP_UNCHANGED' : ACTIONS.find((a) => a === raw);
  if (escapedSlashes === undefined) s.add(at(path, 'pathWithEscapedSlashesAction'), XDS_PROBLEM.INVALID, `must be one of ${ACTIONS.join(', ')}, got ${show(raw)}`);
  if (s.problems.length > before || escapedSlashes === undefined) return undefined;
  if (!normalizePath && !mergeSlashes && escapedSlashes === 'KEEP_UNCHANGED') return undefined;
  return { normalizePath, mergeSlashes, escapedSlashes };
}
