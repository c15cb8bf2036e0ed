// Public API of the xDS server.
export { XdsServer, type XdsServerDeps } from './xds-server.js';
export { adsServiceDefinition, type DiscoveryRequest, type OutgoingResponse } from './ads-service.js';
export { XdsErrorCode } from './errors.js';
export type { NackRecord, ProxyStatus } from './proxy-status.js';
