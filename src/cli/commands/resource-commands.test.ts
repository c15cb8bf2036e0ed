// How `apply`, `get` and `delete` read their command lines (the actions are replaced, so nothing runs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { register as registerApply } from './apply.js';
import { register as registerDelete } from './delete.js';
import { register as registerGet } from './get.js';

function parse(argv: string[]): { command: string; args: unknown[]; opts: Record<string, unknown> } {
  const program = new Command('trellis').exitOverride();
  for (const register of [registerApply, registerGet, registerDelete]) register(program);
  let seen: { command: string; args: unknown[]; opts: Record<string, unknown> } | undefined;
  for (const cmd of program.commands) {
    cmd.exitOverride().action((...a: unknown[]) => {
      const self = a[a.length - 1] as Command;
      seen = { command: cmd.name(), args: a.slice(0, -2), opts: self.opts() };
    });
  }
  program.parse(argv, { from: 'user' });
  assert.ok(seen, `no command ran for ${argv.join(' ')}`);
  return seen;
}

test('apply takes several -f, - for standard input, --dry-run and --control-plane', () => {
  const r = parse(['apply', '-f', 'a.yaml', '-f', '-', '--dry-run', '--control-plane', 'http://127.0.0.1:9']);
  assert.deepEqual(r.opts, { filename: ['a.yaml', '-'], dryRun: true, controlPlane: 'http://127.0.0.1:9' });
});

test('get takes a kind, an optional name, -n, -A and -o', () => {
  assert.deepEqual(parse(['get', 'svc', 'web', '-n', 'shop', '-o', 'yaml']), { command: 'get', args: ['svc', 'web'], opts: { namespace: 'shop', output: 'yaml' } });
  assert.deepEqual(parse(['get', 'httproutes', '-A', '-o', 'wide']).opts, { allNamespaces: true, output: 'wide' });
});

test('delete takes a kind and several names, or -f', () => {
  assert.deepEqual(parse(['delete', 'svc', 'a', 'b', '-n', 'shop']).args, [['svc', 'a', 'b']]);
  assert.deepEqual(parse(['delete', '-f', 'x.yaml', '--ignore-not-found']).opts, { filename: ['x.yaml'], ignoreNotFound: true });
});

test('every command documents examples in its help', () => {
  const program = new Command('trellis');
  for (const register of [registerApply, registerGet, registerDelete]) register(program);
  for (const cmd of program.commands) {
    let help = '';
    cmd.configureOutput({
      writeOut: (s) => {
        help += s;
      },
    });
    cmd.outputHelp();
    assert.match(help, /Examples:\n {2}trellis /, `${cmd.name()} --help has no examples`);
  }
});
