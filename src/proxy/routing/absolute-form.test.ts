// Absolute-form request targets of HTTP proxy listeners.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAbsoluteForm } from './absolute-form.js';

test('absolute-form targets split into authority and origin-form path', () => {
  const cases: [string, { authority: string; path: string } | undefined][] = [
    ['http://svc.mesh:8080/a/b?c=d', { authority: 'svc.mesh:8080', path: '/a/b?c=d' }],
    ['HTTP://SVC.Mesh/x', { authority: 'svc.mesh', path: '/x' }],
    ['http://svc.mesh', { authority: 'svc.mesh', path: '/' }],
    ['http://svc.mesh?q=1', { authority: 'svc.mesh', path: '/?q=1' }],
    ['http://user:pw@svc.mesh/p', { authority: 'svc.mesh', path: '/p' }],
    ['http://[::1]:80/p', { authority: '[::1]:80', path: '/p' }],
    ['/origin/form', undefined],
    ['https://svc.mesh/', undefined],
    ['http:///nohost', undefined],
    ['*', undefined],
  ];
  for (const [target, expected] of cases) assert.deepEqual(parseAbsoluteForm(target), expected, target);
});
