// What the control plane knows about each proxy's config: the versions it accepted and the
// ones it refused (NACK), with the proxy's reason. Operators read it through the API.

import type { ProxyCertificate, ProxyNack, ProxyStatus, ProxyVersions, UndeliveredConfig } from '../../api/proxy-status.js';

export type { ProxyCertificate, ProxyStatus, UndeliveredConfig };
/** A version per resource type ('' when none). */
export type ResourceVersions = ProxyVersions;
/** One refusal of a response by a proxy. */
export type NackRecord = ProxyNack;

/** How many NACKs are kept per proxy. */
export const NACK_HISTORY = 20;

export const emptyVersions = (): ResourceVersions => ({ listeners: '', routes: '', clusters: '', endpoints: '' });
