// The labels a stream's principal lets its proxy claim. Services select workloads by label, and
// callers then trust the identity of what was selected, so labels are part of what a join token
// grants: `app` only as the token's own service, and, when the token names labels, only those
// keys with those values (without token labels, other keys are free).
import { err, ok, type Result } from '../../common/result.js';
import type { StreamPrincipal } from './stream-security.js';

/** What `principal` allows, as `app=payments, version=v2` (and `any other label` when the token names none). */
export function allowedLabels(principal: StreamPrincipal): string {
  const named = Object.entries(principal.labels ?? {})
    .filter(([k]) => k !== 'app')
    .sort(([a], [b]) => (a < b ? -1 : 1));
  const list = [`app=${principal.service}`, ...named.map(([k, v]) => `${k}=${v}`)].join(', ');
  return principal.labels === undefined ? `${list} and any other label` : `only ${list}`;
}

/**
 * Ok when every label in `labels` is one `principal` allows; else why, naming the first label
 * refused (in key order), its value and what the token allows.
 */
export function checkLabelClaims(principal: StreamPrincipal, labels: Readonly<Record<string, string>>): Result<void, string> {
  for (const key of Object.keys(labels).sort()) {
    const value = labels[key]!;
    const tokenLabels = principal.labels;
    const allowed = key === 'app' ? principal.service : tokenLabels === undefined ? value : Object.hasOwn(tokenLabels, key) ? tokenLabels[key] : undefined;
    if (allowed === value) continue;
    return err(
      `label ${key}=${value} is not allowed: join token ${principal.tokenId} is for service ${principal.service} in namespace ${principal.namespace} and allows ${allowedLabels(principal)}`,
    );
  }
  return ok(undefined);
}
