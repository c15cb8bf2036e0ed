// What the client is told about a failure never names an internal address; the detail keeps it for the log.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { internalError, upstreamConnectFailed, upstreamConnectTimeout, upstreamProtocolError, upstreamReset, upstreamTimeout } from './errors.js';
import { PeerIdentityError } from './pool/mesh-tls.js';

const ADDRESS = /10\.1\.2\.3|8080|\/run\/app\.sock/;
const sysError = (code: string, message: string) => Object.assign(new Error(message), { code });

test("upstream failures tell the client the cause's code and keep the endpoint and message in the detail", () => {
  const refused = sysError('ECONNREFUSED', 'connect ECONNREFUSED 10.1.2.3:8080');
  const cancel = Object.assign(sysError('ERR_HTTP2_STREAM_CANCEL', 'The pending stream has been canceled (caused by: connect ECONNREFUSED 10.1.2.3:8080)'), { cause: refused });
  const tlsAltName = sysError('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames: IP: 10.1.2.3 is not in the cert's list");
  const cases = [
    [upstreamConnectFailed('10.1.2.3:8080', refused), 'upstream connect failed: ECONNREFUSED'],
    [upstreamConnectFailed('10.1.2.3:8080', cancel), 'upstream connect failed: ECONNREFUSED'],
    [upstreamConnectFailed('unix:/run/app.sock', tlsAltName), 'upstream connect failed: ERR_TLS_CERT_ALTNAME_INVALID'],
    [upstreamConnectFailed('10.1.2.3:8080', new Error('connect to 10.1.2.3:8080 timed out')), 'upstream connect failed: error'],
    [upstreamConnectTimeout('10.1.2.3:8080', 250), 'upstream connect failed: no connection within 250 ms'],
    [upstreamReset('10.1.2.3:8080', 'stream reset with code 2'), 'upstream reset the request before a complete response: stream reset with code 2'],
    [upstreamProtocolError('10.1.2.3:8080', 'invalid status line'), 'upstream sent an invalid response: invalid status line'],
    [upstreamTimeout('10.1.2.3:8080', 150), 'upstream sent no response head within the per-try timeout of 150 ms'],
  ] as const;
  for (const [error, message] of cases) {
    assert.equal(error.message, message);
    assert.doesNotMatch(error.message, ADDRESS);
    assert.match(error.detail ?? '', ADDRESS, `the detail keeps the endpoint: ${error.detail}`);
  }
});

test("the proxy's own errors (ERR_TRELLIS_*) keep their message: identities, no address", () => {
  const e = upstreamConnectFailed('10.1.2.3:8080', new PeerIdentityError('the server presented spiffe://x/ns/default/sa/evil, expected spiffe://x/ns/default/sa/web'));
  assert.equal(e.message, 'upstream connect failed: ERR_TRELLIS_PEER_IDENTITY: the server presented spiffe://x/ns/default/sa/evil, expected spiffe://x/ns/default/sa/web');
});

test('an internal error says only that; what threw is in the detail', () => {
  const e = internalError(new Error('cannot read x of 10.1.2.3'));
  assert.equal(e.message, 'internal proxy error');
  assert.equal(e.status, 500);
  assert.match(e.detail!, /10\.1\.2\.3/);
});
