// ESLint for Trellis: `npm run lint`, also run by `npm test`. Each rule is on for a reason
// written beside it; a rule one would expect that is off says why. Layout is Prettier's job.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// node:test's test() and describe() return promises the runner itself awaits.
const nodeTestCalls = { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] };

export default tseslint.config(
  { ignores: ['dist/', 'build/', '.build/', 'node_modules/'] },

  // Every file: ESLint's recommended set (undefined names, unreachable code, duplicate keys,
  // fall-through, useless escapes...): bugs, not taste.
  js.configs.recommended,
  {
    rules: {
      // `==` only for `x == null`, which the code uses on purpose for null-or-undefined.
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // A `let` never reassigned hides which bindings do change. A `let` read by a closure
      // before its one assignment (a callback wired before the object it calls exists) stays.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },

  // TypeScript: typescript-eslint's recommended set with type information (the TS program of
  // tsconfig.json), then the rules below.
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // A proxy full of async I/O: a promise nobody awaits or catches loses its error
      // (an unhandled rejection ends the process).
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [nodeTestCalls] }],
      // An async function passed where a callback's result is ignored (an event listener,
      // setTimeout) rejects into nothing.
      '@typescript-eslint/no-misused-promises': 'error',
      // A switch over a union without a default names every member, so a new member (a resource
      // kind, a match type, a filter type) shows every place that must handle it.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // Type-only imports are erased: written as such, they never load a module at run time
      // (a sidecar loads only what it needs) nor create an import cycle. `import('x').T` in a
      // type stays allowed: it types lazily loaded modules.
      '@typescript-eslint/consistent-type-imports': ['error', { disallowTypeAnnotations: false }],
      '@typescript-eslint/no-import-type-side-effects': 'error',
      // Unused code is noise; `_name` marks a binding kept on purpose (a skipped tuple slot,
      // a parameter a signature requires, a field dropped by destructuring).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // Deprecated Node.js and library APIs go away across the Node.js 20 → 24 range we support.
      '@typescript-eslint/no-deprecated': 'error',

      // Off, with reasons:
      // The code is written as if noUncheckedIndexedAccess were on: about 500 `array[i]!` and
      // `record[k]!` that are unnecessary only because tsconfig leaves that option off (61 reads
      // lack one). Turning the option on is the better fix, and this rule with it.
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      // Its findings here are all `String(x)` of JSON or protobuf values that TypeScript narrowed
      // from unknown to `{}`, which it cannot tell from objects; restrict-template-expressions
      // (recommended, on) still refuses objects in template literals.
      '@typescript-eslint/no-base-to-string': 'off',
      // 765 non-null assertions today, mostly `array[i]!` (see above) and `map.get(k)!` after a
      // check: rewriting each as a branch that cannot run adds nothing. The ones that encode the
      // layer order on RequestContext go with the data-path rebuild.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Without noUncheckedIndexedAccess the types claim every `array[i]` exists, so this rule
      // would flag the very checks that guard reads out of range (about 130 findings).
      '@typescript-eslint/no-unnecessary-condition': 'off',
      // An async function without await still turns a throw into a rejection, which callers
      // of an async contract (handlers, test bodies) rely on; dropping `async` changes that.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Tests read JSON answers, gRPC replies and private fields as `any` on purpose: a wrong
    // field fails the assertion that reads it, so the unsafe-any rules only add casts there.
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },

  // JavaScript run by Node.js: scripts, test fixtures, bin, the demo apps.
  { files: ['**/*.{js,mjs}'], languageOptions: { globals: globals.node } },
  // The dashboard's browser modules, with the vendor libraries index.html loads as globals.
  { files: ['src/dashboard/assets/**/*.js'], languageOptions: { globals: { ...globals.browser, cytoscape: 'readonly', uPlot: 'readonly' } } },
);
