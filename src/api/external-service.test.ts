import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertOk, assertProblem, assertRoundTrip, DELETE, withField } from './problem-assert.js';
import { parseExternalService } from './external-service.js';
import { parseResource } from './parse.js';

// A self-signed test CA (P-256, valid to 2126); only its syntax matters here.
const CA_PEM = `-----BEGIN CERTIFICATE-----
MIIBezCCASGgAwIBAgIUOWFjCfWc8DIabABqpWrGFcwFqREwCgYIKoZIzj0EAwIw
EjEQMA4GA1UEAwwHdGVzdC1jYTAgFw0yNjEyMDgwNTMzMjVaGA8yMTI2MTExNDA1
MzMyNVowEjEQMA4GA1UEAwwHdGVzdC1jYTBZMBMGByqGSM49AgEGCCqGSM49AwEH
A0IABJPYhQKE7Jrx6AnH0aQ1b1cF+dlSr7uiLvhkxNmibPl+hqFPblnbJO8mCc07
eyIajDN/h47AtbAPBFO/5ehr2cejUzBRMB0GA1UdDgQWBBSdR6TAd+8coH/nsAa2
5rodbdujnDAfBgNVHSMEGDAWgBSdR6TAd+8coH/nsAa25rodbdujnDAPBgNVHRMB
Af8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIDFWXdD89LDXkmMSVTdVCb0VW1KS
L1mtNsNYoFoZfG5BAiEArVxp4Bf+exMDw+aNCHQuXVc9S45tLNbZw2LvTPTO2Hc=
-----END CERTIFICATE-----
`;

const minimal = {
  apiVersion: 'trellis.dev/v1alpha1',
  kind: 'ExternalService',
  metadata: { name: 'payments-api' },
  spec: { hosts: ['api.example.com'], ports: [{ port: 80, protocol: 'http' }] },
};

test('a minimal ExternalService gets namespace default and targetPort = port', () => {
  assert.deepEqual(assertOk(parseExternalService(minimal)), {
    apiVersion: 'trellis.dev/v1alpha1',
    kind: 'ExternalService',
    metadata: { name: 'payments-api', namespace: 'default' },
    spec: { hosts: ['api.example.com'], ports: [{ port: 80, targetPort: 80, protocol: 'http' }] },
  });
});

test('TLS origination, static endpoints and a target port are kept, and survive a YAML round trip', () => {
  let raw = withField(minimal, 'spec.ports[0].targetPort', 443);
  raw = withField(raw, 'spec.tls', { mode: 'Originate', sni: 'api.example.com', caCertificates: CA_PEM });
  raw = withField(raw, 'spec.endpoints', [{ address: '192.0.2.10' }, { address: '2001:db8::1', port: 8443 }]);
  const e = assertOk(parseExternalService(raw));
  assert.deepEqual(e.spec.ports, [{ port: 80, targetPort: 443, protocol: 'http' }]);
  assert.deepEqual(e.spec.tls, { mode: 'Originate', sni: 'api.example.com', caCertificates: CA_PEM });
  assert.deepEqual(e.spec.endpoints, [{ address: '192.0.2.10' }, { address: '2001:db8::1', port: 8443 }]);
  assertRoundTrip(parseExternalService, e);
});

test('parseResource dispatches kind ExternalService', () => {
  assert.equal(assertOk(parseResource(minimal)).kind, 'ExternalService');
});

const invalid: [string, string, unknown, string, string?][] = [
  ['a wildcard host', 'spec.hosts[0]', '*.example.com', 'wildcards are not supported'],
  ['an IP address as host', 'spec.hosts[0]', '192.0.2.1', 'not an IP address'],
  ['a single-label host', 'spec.hosts[0]', 'payments', 'at least one dot'],
  ['an upper-case host', 'spec.hosts[0]', 'API.example.com', 'DNS-1123 subdomain'],
  ['no hosts', 'spec.hosts', [], 'at least 1 item'],
  ['an unknown protocol', 'spec.ports[0].protocol', 'udp', 'must be one of "http", "https", "tls", "tcp", got "udp"'],
  ['a port out of range', 'spec.ports[0].port', 70000, '65535'],
  ['a target port out of range', 'spec.ports[0].targetPort', 0, 'must be >= 1, got 0'],
  ['no ports', 'spec.ports', [], 'at least 1 item'],
  ['an endpoint that is a name', 'spec.endpoints', [{ address: 'api.example.com' }], 'must be an IP address', 'spec.endpoints[0].address'],
  ['a TLS mode other than Originate', 'spec.tls', { mode: 'Simple' }, 'must be "Originate", got "Simple"', 'spec.tls.mode'],
  ['a CA bundle without a certificate', 'spec.tls', { mode: 'Originate', caCertificates: 'not pem' }, 'at least one PEM certificate', 'spec.tls.caCertificates'],
  [
    'a CA bundle with a corrupt certificate',
    'spec.tls',
    { mode: 'Originate', caCertificates: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' },
    'certificate 1 of 1 is not a valid X.509 certificate',
    'spec.tls.caCertificates',
  ],
  ['skipping verification', 'spec.tls', { mode: 'Originate', insecureSkipVerify: true }, 'always checked', 'spec.tls.insecureSkipVerify'],
  ['an egress gateway (not yet)', 'spec.egressGateway', { name: 'egress' }, 'next step'],
  ['a typo', 'spec.hostz', ['a.example.com'], 'hostz'],
];
for (const [what, path, value, fragment, at] of invalid) {
  test(`refused: ${what} (${at ?? path})`, () => assertProblem(parseExternalService(withField(minimal, path, value)), at ?? path, fragment));
}

test('duplicate hosts and ports are refused with the later one named', () => {
  assertProblem(parseExternalService(withField(minimal, 'spec.hosts', ['a.example.com', 'a.example.com'])), 'spec.hosts[1]', 'a.example.com');
  const twoPorts = withField(minimal, 'spec.ports', [
    { port: 80, protocol: 'http' },
    { port: 80, protocol: 'tcp' },
  ]);
  assertProblem(parseExternalService(twoPorts), 'spec.ports[1].port', '80');
});

test('TLS origination without an http port is refused: the application already speaks TLS', () => {
  const raw = withField(withField(minimal, 'spec.ports', [{ port: 443, protocol: 'https' }]), 'spec.tls', { mode: 'Originate' });
  assertProblem(parseExternalService(raw), 'spec.tls', 'ports with protocol "http"');
});

test('a missing protocol is refused (no default: http and tls ports behave differently)', () => {
  assertProblem(parseExternalService(withField(minimal, 'spec.ports[0].protocol', DELETE)), 'spec.ports[0].protocol', '');
});
