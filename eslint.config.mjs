import { builtinModules } from 'node:module';

import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Why core and decorators may not import a Node built-in (the rule is below).
const nodeOnly = '@staunch/core and @staunch/decorators run outside Node (browsers, Deno, Bun): no Node built-ins.';

export default tseslint.config(
  {
    // tests/types are consumers of the built .d.ts, type-checked by scripts/check-types.mjs (they hold
    // deliberate errors under @ts-expect-error and resolve @staunch/* to dist, which lint runs before).
    ignores: [
      'packages/*/dist/**',
      '**/node_modules/**',
      'coverage/**',
      'docs/**',
      '**/*.cjs',
      '**/*.mjs',
      '.pack/**',
      'tests/types/**',
      // Global placeholder declarations for README snippets, checked by scripts/check-readme-snippets.mjs
      // (kept out of the root program, where they would hide missing imports).
      'scripts/readme-snippets.d.ts',
      'scripts/readme-snippets-modules.d.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    // One program for sources, tests and examples: the root tsconfig maps @staunch/* to sources, so
    // lint never depends on a build (the per-package tsconfigs resolve siblings through dist).
    languageOptions: {
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unnecessary-condition': ['error', { allowConstantLoopConditions: true }],
    },
  },
  {
    // Legacy-decorator code is typed by tsconfig.legacy.json (experimentalDecorators).
    files: [
      'tests/legacy/**/*.ts',
      'tests/nestjs/**/*.ts',
      'packages/nestjs/**/*.ts',
      'examples/nest-app/**/*.ts',
      'tests/examples/**/*.legacy.test.ts',
    ],
    languageOptions: {
      parserOptions: { project: './tsconfig.legacy.json', tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    // Time comes from the injected Clock: only clock.ts may read the system clock or set timers.
    files: ['packages/*/src/**/*.ts'],
    ignores: ['packages/core/src/clock.ts', 'packages/core/src/testing/**'],
    rules: {
      'no-restricted-globals': ['error', 'setTimeout', 'setInterval', 'clearTimeout', 'setImmediate'],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Read time from the injected Clock.' },
        { object: 'performance', property: 'now', message: 'Read time from the injected Clock.' },
      ],
    },
  },
  {
    // Core and decorators run in browsers, Deno and Bun too (tests/runtimes): no Node built-ins.
    // Only @staunch/redis needs Node (node:crypto, node:os).
    files: ['packages/core/src/**/*.ts', 'packages/decorators/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: builtinModules.map((name) => ({ name, message: nodeOnly })),
          patterns: [{ group: ['node:*'], message: nodeOnly }],
        },
      ],
    },
  },
  {
    files: ['tests/**/*.ts', 'examples/**/*.ts', 'benchmarks/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/only-throw-error': 'off',
      '@typescript-eslint/no-confusing-void-expression': 'off',
      '@typescript-eslint/no-extraneous-class': 'off',
      // jest's asymmetric matchers (expect.any, objectContaining) are typed `any`, and identity
      // checks on prototype methods (`toBe(Class.prototype.method)`) never call them unbound.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
