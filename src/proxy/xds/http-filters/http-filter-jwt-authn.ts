// HTTP filter: request authentication (envoy.filters.http.jwt_authn). Its config (decode-jwt-authn.ts)
// becomes the listener's JWT settings; it must come before the RBAC filters that read its payload,
// one per listener, and it takes no per-route override.
import { FILTER_JWT_AUTHN, JWT_AUTHN, JWT_PAYLOAD_METADATA_KEY, typeUrl } from '../../../xds/type-urls.js';
import { decodeJwtAuthn } from '../decode-jwt-authn.js';
import { XDS_PROBLEM } from '../errors.js';
import { registerHttpFilter } from './http-filter.js';

registerHttpFilter({
  name: FILTER_JWT_AUTHN,
  typeUrl: typeUrl(JWT_AUTHN),
  decodeConfig(s, config, path, into) {
    if (into.jwt !== undefined) return void s.add(path, XDS_PROBLEM.UNSUPPORTED, 'one JWT filter per listener is supported by Trellis proxy');
    if (into.authz.length > 0) s.add(path, XDS_PROBLEM.UNSUPPORTED, 'the JWT filter must come before the RBAC filters (Trellis proxy verifies tokens before authorization)');
    const jwt = decodeJwtAuthn(s, config, path, JWT_PAYLOAD_METADATA_KEY);
    if (jwt) into.jwt = jwt;
  },
});
