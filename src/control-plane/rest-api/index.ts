// The REST API's public surface.
export { createRestApi } from './rest-api.js';
export type { ApiErrorBody, ApiProblem, ApplyAction, ApplyResponse, ProxyNack, ProxyStatus, ProxyVersions, ResourceList, RestApiDeps } from './types.js';
export type { RestErrorCode } from './errors.js';
export { KNOWN_PLURALS, kindOfPlural, pluralOf } from './kinds.js';
