// The status of the Gateway API kinds, the way the Gateway API defines it, computed on read from
// the mesh state (the same attachment model the translator uses) and the connected gateway
// proxies: GatewayClass Accepted; Gateway Accepted and Programmed with per-listener conditions and
// attachedRoutes; HTTPRoute and GRPCRoute `parents` for their Gateway parentRefs. The store keeps
// no generation and no transition times, so conditions carry neither (see docs/gateways.md).
import type { Resource } from '../api/resource.js';
import type { ProxyStatus } from '../api/proxy-status.js';
import { TRELLIS_GATEWAY_CONTROLLER } from '../api/gateway-class.js';
import { GATEWAY_GROUP } from '../api/route-parent-ref.js';
import { gatewayKey, gatewayWorld, routeKey, type ListenerModel, type Reason } from './translator/gateway-attachment.js';
import type { MeshState } from './translator/index.js';

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

const yes = (type: string, reason: string, message: string): Condition => ({ type, status: 'True', reason, message });
const no = (type: string, r: Reason): Condition => ({ type, status: 'False', reason: r.reason, message: r.message });

/** A gateway proxy runs the Gateway once it is connected and has ACKed the config computed for it now. */
function programmed(proxies: readonly ProxyStatus[], namespace: string, name: string): Reason | undefined {
  const mine = proxies.filter((p) => p.kind === 'gateway' && p.service === name && p.namespace === namespace && p.connected);
  if (mine.length === 0) return { reason: 'NoResources', message: `no gateway proxy is connected for it (trellis gateway --name ${name} -n ${namespace})` };
  const synced = mine.filter((p) => p.current !== undefined && (['listeners', 'routes', 'clusters', 'endpoints'] as const).every((k) => p.versions[k] === p.current![k]));
  if (synced.length === 0) {
    const nack = mine.flatMap((p) => p.nacks).at(-1);
    return { reason: 'Pending', message: `${mine.length} gateway proxy(ies) connected, none has applied the current config yet${nack ? ` (last refusal: ${nack.message})` : ''}` };
  }
  return undefined;
}

function listenerStatus(l: ListenerModel, gatewayProgrammed: Reason | undefined) {
  const conditions: Condition[] = [
    l.notAccepted ? no('Accepted', l.notAccepted) : yes('Accepted', 'Accepted', 'the listener is valid'),
    l.unresolved ? no('ResolvedRefs', l.unresolved) : yes('ResolvedRefs', 'ResolvedRefs', 'every reference resolved'),
    l.conflicted
      ? { type: 'Conflicted', status: 'True', reason: l.conflicted.reason, message: l.conflicted.message }
      : { type: 'Conflicted', status: 'False', reason: 'NoConflicts', message: 'no conflict' },
  ];
  const notServed: Reason | undefined = !l.served
    ? { reason: 'Invalid', message: 'the listener is not served: see its other conditions' }
    : gatewayProgrammed
      ? { reason: 'Pending', message: gatewayProgrammed.message }
      : undefined;
  conditions.push(notServed ? no('Programmed', notServed) : yes('Programmed', 'Programmed', 'the gateway serves it'));
  return { name: l.listener.name, supportedKinds: l.kinds.map((kind) => ({ group: GATEWAY_GROUP, kind })), attachedRoutes: l.routes.length, conditions };
}

/** The status of `r`, or undefined for kinds without one (and for Gateway API objects another controller owns). */
export function resourceStatus(state: MeshState, proxies: () => readonly ProxyStatus[], r: Resource): object | undefined {
  switch (r.kind) {
    case 'GatewayClass':
      if (r.spec.controllerName !== TRELLIS_GATEWAY_CONTROLLER) return undefined;
      return { conditions: [yes('Accepted', 'Accepted', `run by ${TRELLIS_GATEWAY_CONTROLLER}`)] };
    case 'Gateway': {
      const world = gatewayWorld(state);
      const model = world.gateways.get(gatewayKey(r.metadata.namespace, r.metadata.name));
      const cls = world.classes.get(r.spec.gatewayClassName);
      if (!model || (cls && cls.spec.controllerName !== TRELLIS_GATEWAY_CONTROLLER)) return undefined;
      if (model.notAccepted) return { conditions: [no('Accepted', model.notAccepted), no('Programmed', { reason: 'Pending', message: model.notAccepted.message })] };
      const notProgrammed = programmed(proxies(), r.metadata.namespace, r.metadata.name);
      return {
        conditions: [
          yes('Accepted', 'Accepted', `run by ${TRELLIS_GATEWAY_CONTROLLER}`),
          notProgrammed ? no('Programmed', notProgrammed) : yes('Programmed', 'Programmed', 'a gateway proxy has applied its config'),
        ],
        listeners: model.listeners.map((l) => listenerStatus(l, notProgrammed)),
      };
    }
    case 'HTTPRoute':
    case 'GRPCRoute': {
      const parents = gatewayWorld(state).routeParents.get(routeKey(r));
      if (!parents) return undefined;
      return {
        parents: parents.map((p) => ({
          parentRef: p.parentRef,
          controllerName: TRELLIS_GATEWAY_CONTROLLER,
          conditions: [
            p.notAccepted ? no('Accepted', p.notAccepted) : yes('Accepted', 'Accepted', 'attached to the Gateway'),
            p.unresolved ? no('ResolvedRefs', p.unresolved) : yes('ResolvedRefs', 'ResolvedRefs', 'every backend exists'),
          ],
        })),
      };
    }
    default:
      return undefined;
  }
}
