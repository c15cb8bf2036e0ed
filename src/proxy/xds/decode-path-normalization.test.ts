import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeMessage, encodeMessage } from '../../xds/protos.js';
import { HTTP_CONNECTION_MANAGER } from '../../xds/type-urls.js';
import { ProblemSink } from './decode-fields.js';
import { decodePathNormalization } from './decode-path-normalization.js';

type Fields = { normalizePath?: { value: boolean }; mergeSlashes?: boolean; pathWithEscapedSlashesAction?: string };

test('the HCM path fields survive the Envoy protobuf encoding and decode to the listener setting', () => {
  const cases: [Fields, unknown][] = [
    [
      { normalizePath: { value: true }, mergeSlashes: true, pathWithEscapedSlashesAction: 'KEEP_UNCHANGED' },
      { normalizePath: true, mergeSlashes: true, escapedSlashes: 'KEEP_UNCHANGED' },
    ],
    [
      { normalizePath: { value: true }, mergeSlashes: false, pathWithEscapedSlashesAction: 'KEEP_UNCHANGED' },
      { normalizePath: true, mergeSlashes: false, escapedSlashes: 'KEEP_UNCHANGED' },
    ],
    [
      { normalizePath: { value: true }, mergeSlashes: true, pathWithEscapedSlashesAction: 'UNESCAPE_AND_FORWARD' },
      { normalizePath: true, mergeSlashes: true, escapedSlashes: 'UNESCAPE_AND_FORWARD' },
    ],
    [
      { normalizePath: { value: false }, mergeSlashes: false, pathWithEscapedSlashesAction: 'UNESCAPE_AND_REDIRECT' },
      { normalizePath: false, mergeSlashes: false, escapedSlashes: 'UNESCAPE_AND_REDIRECT' },
    ],
    [{ normalizePath: { value: false }, mergeSlashes: false, pathWithEscapedSlashesAction: 'KEEP_UNCHANGED' }, undefined],
    [{}, undefined], // Envoy's defaults: nothing normalized
  ];
  for (const [fields, want] of cases) {
    const hcm = { statPrefix: 'x', rds: { routeConfigName: 'r', configSource: { ads: {} } }, ...fields };
    const wire = decodeMessage(HTTP_CONNECTION_MANAGER, encodeMessage(HTTP_CONNECTION_MANAGER, hcm));
    const s = new ProblemSink('listener x');
    assert.deepEqual(decodePathNormalization(s, wire, 'typedConfig'), want, JSON.stringify(fields));
    assert.deepEqual(s.problems, []);
  }
});

test('a bad action is a problem naming the field', () => {
  const s = new ProblemSink('listener x');
  assert.equal(decodePathNormalization(s, { pathWithEscapedSlashesAction: 'DROP' }, 'typedConfig'), undefined);
  assert.match(s.problems[0]!.message, /must be one of KEEP_UNCHANGED, REJECT_REQUEST, UNESCAPE_AND_REDIRECT, UNESCAPE_AND_FORWARD, got "DROP"/);
  assert.equal(s.problems[0]!.path, 'typedConfig.pathWithEscapedSlashesAction');
});
