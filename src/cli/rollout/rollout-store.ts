// Reading the Service and its HTTPRoute, and writing new weights with the workflow state, through
// the REST API. The state lives in an annotation of the HTTPRoute in the control plane's store,
// so a workflow survives a restart of the CLI or of the control plane.
import type { HTTPRoute, Service } from '../../api/resource.js';
import { err, ok, type Result } from '../../common/result.js';
import type { ApiClient } from '../api-client.js';
import { formatClientError } from '../output.js';
import { findRoute, newRoute, stateOf, withState, withWeights } from './route-weights.js';

export interface RolloutTarget {
  service: Service;
  /** The HTTPRoute as stored, or a new one (not yet stored) when the Service had none. */
  route: HTTPRoute;
  stored: boolean;
}

const message = (e: Parameters<typeof formatClientError>[0]): string => formatClientError(e).join('; ');

/** The Service and the HTTPRoute carrying its traffic (a new one sending all to `from` when there is none). */
export async function loadTarget(
  client: ApiClient,
  namespace: string,
  name: string,
  routeName: string | undefined,
  from: string | undefined,
): Promise<Result<RolloutTarget, string>> {
  const svc = await client.get({ kind: 'Service', namespace, name });
  if (!svc.ok) return err(svc.error.code === 'STORE_NOT_FOUND' ? `Service ${namespace}/${name} does not exist` : message(svc.error));
  const service = svc.value as Service;
  const routes = await client.list('HTTPRoute', namespace);
  if (!routes.ok) return err(message(routes.error));
  const found = findRoute(routes.value as HTTPRoute[], service, routeName);
  if (!found.ok) return found;
  if (found.value) return ok({ service, route: found.value, stored: true });
  if (!from) return err(`no HTTPRoute is attached to Service ${namespace}/${name}; name the backend that has its traffic now with --from (e.g. --from ${name}-v1)`);
  return ok({ service, route: newRoute(service, from), stored: false });
}

/** Sets `percent` of the traffic to `to` (the rest to `from`) and stores `state` with it, in one write. */
export async function writeWeights(client: ApiClient, target: RolloutTarget, from: string, to: string, percent: number, state: object): Promise<Result<HTTPRoute, string>> {
  const weighted = withWeights(target.route, from, to, percent, target.service.spec.ports[0]!.port);
  if (!weighted.ok) return weighted;
  const route = withState(weighted.value, state);
  const applied = await client.apply([route]);
  if (!applied.ok) return err(message(applied.error));
  const fresh = await client.get({ kind: 'HTTPRoute', namespace: route.metadata.namespace, name: route.metadata.name });
  if (!fresh.ok) return err(message(fresh.error));
  target.route = fresh.value as HTTPRoute;
  target.stored = true;
  return ok(target.route);
}

export { stateOf };
