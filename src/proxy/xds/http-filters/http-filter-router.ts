// HTTP filter: the router (envoy.filters.http.router), which must end every HTTP connection
// manager's filters. Its settings are not read: the proxy's own stacks do the routing.
import { FILTER_ROUTER, ROUTER, typeUrl } from '../../../xds/type-urls.js';
import { registerHttpFilter } from './http-filter.js';

registerHttpFilter({
  name: FILTER_ROUTER,
  typeUrl: typeUrl(ROUTER),
  terminal: true,
  decodeConfig() {},
});
