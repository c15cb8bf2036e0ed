// `trellis check` on the Gateway API: Gateways not Programmed and routes a Gateway does not
// accept, each with the reason its status gives. No Gateways and no routes on one: no lines.
import type { CheckLine } from './check.js';

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}
/** A Gateway or route as the REST API answers it: name, namespace and the status it computed. */
export interface WithStatus {
  metadata: { name: string; namespace?: string };
  kind: string;
  status?: { conditions?: Condition[]; parents?: { parentRef: { name: string; namespace?: string; sectionName?: string }; conditions: Condition[] }[] };
}

const why = (c: Condition | undefined) => (c ? `${c.reason ?? c.status}: ${c.message ?? ''}` : 'no status');

/** The lines for these Gateways and routes (routes without Gateway parents are left out). */
export function gatewayLines(gateways: readonly WithStatus[], routes: readonly WithStatus[]): CheckLine[] {
  const lines: CheckLine[] = [];
  // Gateways of a class another controller runs have no status from Trellis.
  const ours = gateways.filter((g) => g.status !== undefined);
  if (ours.length > 0) {
    const down = ours.flatMap((g) => {
      const c = g.status?.conditions?.find((x) => x.type === 'Programmed');
      return c?.status === 'True' ? [] : [`${g.metadata.namespace}/${g.metadata.name} ${why(c)}`];
    });
    lines.push(
      down.length === 0
        ? { verdict: 'ok', check: 'gateways programmed', detail: `${ours.length} Gateway(s) served by a gateway proxy with their current config` }
        : { verdict: 'FAIL', check: 'gateways programmed', detail: down.join('; ') },
    );
  }
  const attached = routes.filter((r) => (r.status?.parents?.length ?? 0) > 0);
  if (attached.length > 0) {
    const refused = attached.flatMap((r) =>
      r.status!.parents!.flatMap((p) => {
        const bad = p.conditions.filter((c) => (c.type === 'Accepted' || c.type === 'ResolvedRefs') && c.status !== 'True');
        const parent = `Gateway ${p.parentRef.namespace ?? r.metadata.namespace}/${p.parentRef.name}${p.parentRef.sectionName ? `.${p.parentRef.sectionName}` : ''}`;
        return bad.map((c) => `${r.kind} ${r.metadata.namespace}/${r.metadata.name} on ${parent}: ${c.type} ${why(c)}`);
      }),
    );
    lines.push(
      refused.length === 0
        ? { verdict: 'ok', check: 'routes accepted by their Gateways', detail: `${attached.length} route(s) attached with every backend found` }
        : { verdict: 'FAIL', check: 'routes accepted by their Gateways', detail: refused.join('; ') },
    );
  }
  return lines;
}
