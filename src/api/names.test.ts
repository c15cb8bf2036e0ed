import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkDns1123Label, checkDns1123Subdomain, checkHeaderName, checkHostname, checkLabelKey, checkLabelValue } from './names.js';

type Check = (s: string) => string | undefined;
const cases: [string, Check, string[], string[]][] = [
  ['DNS-1123 label', checkDns1123Label, ['payments', 'payments-v1', 'a', '0a', 'a'.repeat(63)], ['', 'Payments', 'pay_ments', '-a', 'a-', 'a.b', 'a'.repeat(64)]],
  ['DNS-1123 subdomain', checkDns1123Subdomain, ['split', 'a.b.c', 'canary-1.payments'], ['', 'a..b', '.a', 'A.b', 'a_b', `${'a'.repeat(63)}.`.repeat(4) + 'a']],
  ['label key', checkLabelKey, ['app', 'app.kubernetes.io/name', 'Version', 'a_b.c-d'], ['', 'bad key', '/name', 'Prefix.IO/name', 'a/', '_a', 'a'.repeat(64)]],
  ['label value', checkLabelValue, ['', 'v1', 'V1_a.b-c'], ['-v1', 'v 1', 'a'.repeat(64), 'v1/']],
  ['hostname', checkHostname, ['payments.example.com', '*.example.com', 'payments'], ['10.0.0.1', '::1', 'Payments.example.com', '*', 'a.*.com', 'a_b.com']],
  ['header name', checkHeaderName, ['x-canary', 'X-Request-ID', 'a!#$'], ['', 'bad header', 'a:b', 'ä']],
];

for (const [what, check, good, bad] of cases) {
  for (const s of good) {
    test(`${what}: accepts ${JSON.stringify(s.length > 30 ? s.slice(0, 30) + '…' : s)}`, () => assert.equal(check(s), undefined));
  }
  for (const s of bad) {
    test(`${what}: refuses ${JSON.stringify(s.length > 30 ? s.slice(0, 30) + '…' : s)} naming the value`, () => {
      const message = check(s);
      assert.ok(message !== undefined, 'accepted');
      assert.ok(message.includes('got "'), message);
    });
  }
}
