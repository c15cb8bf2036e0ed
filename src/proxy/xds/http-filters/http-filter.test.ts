// The HTTP filter registry: kinds are found by their config's message name whatever the type
// URL's prefix, listed in registration order (as problems name them), and per-route overrides
// are found by the filter's name, only for the kinds that take them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  FILTER_FAULT,
  FILTER_HTTP_RBAC,
  FILTER_LOCAL_RATE_LIMIT,
  FILTER_ROUTER,
  HTTP_FAULT,
  HTTP_RBAC,
  JWT_AUTHN,
  LOCAL_RATE_LIMIT,
  ROUTER,
  typeUrl,
} from '../../../xds/type-urls.js';
import { httpFilterByType, httpFilterTypeUrls, perRouteFilter, perRouteFilterNames } from './index.js';

test('the built-in kinds are listed in the order problems name them', () => {
  assert.deepEqual(httpFilterTypeUrls(), [typeUrl(ROUTER), typeUrl(HTTP_RBAC), typeUrl(HTTP_FAULT), typeUrl(LOCAL_RATE_LIMIT), typeUrl(JWT_AUTHN)]);
  assert.deepEqual(perRouteFilterNames(), [FILTER_FAULT, FILTER_LOCAL_RATE_LIMIT]);
});

test('a kind is found by its message name, whatever the type URL prefix', () => {
  assert.equal(httpFilterByType(typeUrl(HTTP_RBAC))?.name, FILTER_HTTP_RBAC);
  assert.equal(httpFilterByType(`example.com/x/${HTTP_RBAC}`)?.name, FILTER_HTTP_RBAC);
  assert.equal(httpFilterByType(ROUTER)?.name, FILTER_ROUTER);
});

test('unknown and non-string type URLs find nothing', () => {
  assert.equal(httpFilterByType(typeUrl('envoy.extensions.filters.http.cors.v3.Cors')), undefined);
  assert.equal(httpFilterByType(undefined), undefined);
  assert.equal(httpFilterByType(42), undefined);
});

test('only the router ends a filter chain', () => {
  assert.deepEqual(
    httpFilterTypeUrls().filter((t) => httpFilterByType(t)?.terminal === true),
    [typeUrl(ROUTER)],
  );
});

test('per-route overrides are found by filter name, for the kinds that take them', () => {
  assert.equal(perRouteFilter(FILTER_FAULT)?.perRoute.typeUrl, typeUrl(HTTP_FAULT));
  assert.equal(perRouteFilter(FILTER_LOCAL_RATE_LIMIT)?.perRoute.typeUrl, typeUrl(LOCAL_RATE_LIMIT));
  assert.equal(perRouteFilter(FILTER_HTTP_RBAC), undefined);
  assert.equal(perRouteFilter(FILTER_ROUTER), undefined);
  assert.equal(perRouteFilter('envoy.filters.http.cors'), undefined);
});
