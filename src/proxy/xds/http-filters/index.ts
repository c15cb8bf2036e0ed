// Loads every built-in HTTP filter kind into the registry, in the order problems list them;
// import this (not the filter files) to decode HTTP filters.
import './http-filter-router.js';
import './http-filter-rbac.js';
import './http-filter-fault.js';
import './http-filter-local-rate-limit.js';
import './http-filter-jwt-authn.js';

export { httpFilterByType, httpFilterTypeUrls, perRouteFilter, perRouteFilterNames, registerHttpFilter } from './http-filter.js';
export type { FilterSettings, HcmFilterSettings, HttpFilterKind, PerRouteConfig } from './http-filter.js';
