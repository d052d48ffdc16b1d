// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import frontDoors from './scripts/eslint/frontDoors.mjs';

export default tseslint.config(
  { ignores: ['**/dist/**', 'node_modules/**', 'infra/**/*.json', '.azurite/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      eqeqeq: ['error', 'always'],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Rooms import each other only through front doors (docs/architecture.md, scripts/eslint/frontDoors.mjs).
    files: ['**/*.ts', '**/*.mjs', '**/*.js'],
    plugins: { convoy: frontDoors },
    rules: {
      'convoy/front-doors': [
        'error',
        {
          root: import.meta.dirname,
          // The host talks AMQP to any broker: it never imports the emulator; the emulator imports no other package.
          arrows: { '@convoy/dev-stack': ['@convoy/functions-host', '@convoy/servicebus-emulator'] },
        },
      ],
    },
  },
  {
    // The domain is pure: no runtime, no SDK, no I/O.
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@azure/*', 'durable-functions', 'durable-functions/*'],
              message: 'src/domain is pure: no Azure SDKs.',
            },
            {
              group: ['node:*', 'fs', 'path', 'crypto', 'http', 'net', 'os', 'child_process'],
              message: 'src/domain is pure: no Node built-ins.',
            },
            {
              group: ['../adapters/*', '../application/*', '../functions/*', '../config'],
              message: 'src/domain depends on nothing outside itself.',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'Date', message: 'Time comes in as an argument.' }],
    },
  },
  {
    // The catch-all's 404/405 know every route because each HTTP function registers through registerHttp.
    files: ['src/**/*.ts'],
    ignores: ['src/functions/http/routeTable.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        ...['http', 'get', 'put', 'post', 'patch', 'deleteRequest'].map((property) => ({
          object: 'app',
          property,
          message:
            'Register HTTP functions with registerHttp (src/functions/http/routeTable.ts): the catch-all reads its routes.',
        })),
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'packages/*/test/**/*.ts', 'packages/*/bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['it', 'test', 'describe', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
