// HTTP filter: authorization (envoy.filters.http.rbac). Its rules (decode-rbac.ts, shared with
// the network RBAC filter) are added to the listener's, in filter order; it takes no per-route
// override.
import { FILTER_HTTP_RBAC, HTTP_RBAC, typeUrl } from '../../../xds/type-urls.js';
import { decodeRbac } from '../decode-rbac.js';
import { registerHttpFilter } from './http-filter.js';

registerHttpFilter({
  name: FILTER_HTTP_RBAC,
  typeUrl: typeUrl(HTTP_RBAC),
  decodeConfig(s, config, path, into) {
    const rules = decodeRbac(s, config, path);
    if (rules) into.authz.push(rules);
  },
});
