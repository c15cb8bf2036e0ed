// Table columns of the gateway kinds: GatewayClass, Gateway (with its Programmed condition) and Secret (never its key).
import { X509Certificate } from 'node:crypto';
import type { Gateway, GatewayClass, Secret } from '../api/resource.js';
import type { Columns } from './output.js';
import { formatAge } from './age.js';

/** The status of condition `type` in the `status` the REST API adds to a resource, or `-`. */
export function conditionOf(r: object, type: string): string {
  const conditions = (r as { status?: { conditions?: { type: string; status: string; reason?: string }[] } }).status?.conditions;
  const c = conditions?.find((x) => x.type === type);
  return c ? (c.status === 'True' ? 'True' : `${c.status} (${c.reason ?? ''})`) : '-';
}

export const GATEWAY_CLASS: Columns<GatewayClass> = {
  headers: ['NAME', 'CONTROLLER', 'ACCEPTED', 'AGE'],
  wide: ['DESCRIPTION'],
  row: (c, now) => [c.metadata.name, c.spec.controllerName, conditionOf(c, 'Accepted'), formatAge(c.metadata.creationTimestamp, now)],
  wideRow: (c) => [c.spec.description ?? ''],
};

export const GATEWAY: Columns<Gateway> = {
  headers: ['NAME', 'CLASS', 'LISTENERS', 'PROGRAMMED', 'AGE'],
  wide: ['HOSTNAMES'],
  row: (g, now) => [
    g.metadata.name,
    g.spec.gatewayClassName,
    g.spec.listeners.map((l) => `${l.name}:${l.port}/${l.protocol}`).join(','),
    conditionOf(g, 'Programmed'),
    formatAge(g.metadata.creationTimestamp, now),
  ],
  wideRow: (g) => [g.spec.listeners.map((l) => l.hostname ?? '*').join(',')],
};

function notAfter(s: Secret): string {
  try {
    return new Date(new X509Certificate(Buffer.from(s.data['tls.crt'], 'base64')).validTo).toISOString();
  } catch {
    return '<invalid>';
  }
}

export const SECRET: Columns<Secret> = {
  headers: ['NAME', 'TYPE', 'NOT-AFTER', 'AGE'],
  wide: [],
  row: (s, now) => [s.metadata.name, s.type, notAfter(s), formatAge(s.metadata.creationTimestamp, now)],
  wideRow: () => [],
};
