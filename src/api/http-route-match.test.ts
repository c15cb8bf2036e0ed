import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkPathValue, httpRouteMatchSchema, toHTTPRouteMatch } from './http-route-match.js';
import { assertOk, assertProblem } from './problem-assert.js';
import { parseWithSchema } from './schema-kit.js';

const parseMatch = (raw: unknown) => {
  const r = parseWithSchema(httpRouteMatchSchema, raw);
  return r.ok ? { ok: true as const, value: toHTTPRouteMatch(r.value) } : r;
};

const paths: [string, 'Exact' | 'PathPrefix' | 'RegularExpression', string, string | undefined][] = [
  ['the root prefix', 'PathPrefix', '/', undefined],
  ['a prefix', 'PathPrefix', '/api', undefined],
  ['an exact path with a trailing slash', 'Exact', '/api/', undefined],
  ['a regular expression', 'RegularExpression', '/v[0-9]+/.*', undefined],
  ['a prefix with a trailing slash', 'PathPrefix', '/api/', 'must not end with "/"'],
  ['a relative prefix', 'PathPrefix', 'api', 'must start with "/", got "api"'],
  ['a relative exact path', 'Exact', 'api', 'must start with "/"'],
  ['a path with a query', 'Exact', '/api?x=1', 'must not contain "?"'],
  ['a path with a fragment', 'PathPrefix', '/a#b', 'must not contain "?", "#"'],
  ['a broken regular expression', 'RegularExpression', '/(', 'must be a valid regular expression'],
];
for (const [name, type, value, fragment] of paths) {
  test(`path ${type} ${JSON.stringify(value)} (${name}) is ${fragment ? 'refused' : 'accepted'}`, () => {
    const message = checkPathValue(type, value);
    if (fragment === undefined) assert.equal(message, undefined);
    else assert.ok(message?.includes(fragment), message);
  });
}

test('an empty match gets path PathPrefix "/"', () => {
  assert.deepEqual(assertOk(parseMatch({})), { path: { type: 'PathPrefix', value: '/' } });
});

test('a path without a type is a PathPrefix; headers default to Exact', () => {
  assert.deepEqual(assertOk(parseMatch({ path: { value: '/api' }, headers: [{ name: 'x-canary', value: 'true' }], method: 'GET' })), {
    path: { type: 'PathPrefix', value: '/api' },
    headers: [{ type: 'Exact', name: 'x-canary', value: 'true' }],
    method: 'GET',
  });
});

test('empty header and query lists are left out', () => {
  assert.deepEqual(assertOk(parseMatch({ headers: [], queryParams: [] })), { path: { type: 'PathPrefix', value: '/' } });
});

const invalid: [string, unknown, string, string][] = [
  ['an unknown path type', { path: { type: 'Prefix', value: '/' } }, 'path.type', 'must be one of "Exact", "PathPrefix", "RegularExpression", got "Prefix"'],
  ['a bad prefix value', { path: { value: '/a/' } }, 'path.value', 'must not end with "/"'],
  ['an empty path value', { path: { type: 'Exact', value: '' } }, 'path.value', 'must not be empty'],
  ['a header name with a space', { headers: [{ name: 'x canary', value: 'a' }] }, 'headers[0].name', 'must be an HTTP header name'],
  ['a header without a value', { headers: [{ name: 'x-canary' }] }, 'headers[0].value', 'required'],
  ['a header value that is a boolean', { headers: [{ name: 'x-canary', value: true }] }, 'headers[0].value', 'quote it in YAML: "true"'],
  ['a header regex that does not compile', { headers: [{ type: 'RegularExpression', name: 'a', value: '[' }] }, 'headers[0].value', 'must be a valid regular expression'],
  ['a header match type Prefix', { headers: [{ type: 'Prefix', name: 'a', value: 'b' }] }, 'headers[0].type', 'must be one of "Exact", "RegularExpression"'],
  [
    'the same header twice in another case',
    {
      headers: [
        { name: 'X-Canary', value: 'a' },
        { name: 'x-canary', value: 'b' },
      ],
    },
    'headers[1].name',
    'duplicate header name "x-canary", already used by headers[0]',
  ],
  [
    'the same query parameter twice',
    {
      queryParams: [
        { name: 'v', value: '1' },
        { name: 'v', value: '2' },
      ],
    },
    'queryParams[1].name',
    'duplicate query parameter "v"',
  ],
  ['a query parameter name with "="', { queryParams: [{ name: 'a=b', value: '1' }] }, 'queryParams[0].name', 'must be a query parameter name'],
  ['a query regex that does not compile', { queryParams: [{ type: 'RegularExpression', name: 'v', value: '(' }] }, 'queryParams[0].value', 'regular expression'],
  ['an unknown method', { method: 'FETCH' }, 'method', 'must be one of "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", got "FETCH"'],
  ['a lowercase method', { method: 'get' }, 'method', 'got "get"'],
  ['17 header matches', { headers: Array.from({ length: 17 }, (_, i) => ({ name: `h${i}`, value: 'v' })) }, 'headers', 'must have at most 16 item(s), got 17'],
  ['a typo in a match', { paht: { value: '/' } }, 'paht', 'did you mean "path"?'],
];
for (const [name, raw, path, fragment] of invalid) {
  test(`match refuses ${name}`, () => assertProblem(parseMatch(raw), path, fragment));
}
