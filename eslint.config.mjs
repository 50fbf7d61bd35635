import nx from '@nx/eslint-plugin';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    ignores: ['**/node_modules', '**/dist', '.data', '.nx', '.reports', 'coverage', '**/*.js', '**/*.mjs', '**/*.cjs'],
  },
  {
    files: ['**/*.ts'],
    languageOptions: {
      // One TypeScript program for the whole workspace (the root tsconfig.json includes every project).
      // The project service built one program per project tsconfig, each holding most of the monorepo
      // through the path aliases: `eslint .` grew past 8 GB of heap and took 4.4 min; this takes 1.7 GB
      // and 30 s with the same findings.
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      'no-console': 'error',
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          banTransitiveDependencies: false,
          depConstraints: [
            // Layers: apps wire features; features use data access and domain; domain and util stay pure.
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:feature', 'type:activities', 'type:data-access', 'type:domain', 'type:util'] },
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:feature', 'type:activities', 'type:data-access', 'type:domain', 'type:util', 'type:workflow'] },
            { sourceTag: 'type:feature', onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:domain', 'type:util'] },
            { sourceTag: 'type:activities', onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:domain', 'type:util'] },
            { sourceTag: 'type:workflow', onlyDependOnLibsWithTags: ['type:activities', 'type:domain'] },
            { sourceTag: 'type:data-access', onlyDependOnLibsWithTags: ['type:data-access', 'type:domain', 'type:util'] },
            { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain', 'type:util'] },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'] },
            // Scopes: ingestion, query and billing share only the shared libs (query also starts billing workflows).
            { sourceTag: 'scope:ingest', onlyDependOnLibsWithTags: ['scope:ingest', 'scope:shared'] },
            { sourceTag: 'scope:query', onlyDependOnLibsWithTags: ['scope:query', 'scope:billing', 'scope:shared'] },
            { sourceTag: 'scope:billing', onlyDependOnLibsWithTags: ['scope:billing', 'scope:shared'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
          ],
        },
      ],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no I/O, no drivers, no Node built-ins,
    // and activities only as types (called through proxyActivities).
    files: ['libs/workflows/src/**/*.ts'],
    ignores: ['libs/workflows/src/**/*.spec.ts', 'libs/workflows/src/**/*.int-spec.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({ name, message: 'Workflows run in a sandbox without Node built-ins.' })),
            { name: '@tally/activities', allowTypeImports: true, message: 'Import activities as types only.' },
          ],
          patterns: [
            { group: ['@temporalio/activity', '@temporalio/client', '@temporalio/worker'], message: 'Not available inside workflows.' },
            { group: ['@clickhouse/*', '@nats-io/*', '@nestjs/*', 'pino', 'prom-client'], message: 'Drivers and I/O belong in activities.' },
          ],
        },
      ],
    },
  },
  {
    // Test doubles and fixtures live behind `@tally/<lib>/testing` entry points; production code never loads them.
    files: ['apps/*/src/**/*.ts', 'libs/*/src/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.int-spec.ts', '**/test-support/**', '**/testing.ts', '**/testing/**', 'libs/testing/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@tally/*/testing'], message: 'Test doubles are for tests: import them only from specs and test support.' },
            { group: ['**/test-support/**', '**/test/faults/**'], message: 'Test support is for tests only.' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts', 'tools/**/*.ts'],
    rules: { 'no-console': 'off', '@nx/enforce-module-boundaries': 'off' },
  },
];
