// Shared Jest settings: swc transpiles TypeScript (with Nest's decorator metadata) and the
// tsconfig path aliases map to library sources, so tests never need a build step.
const path = require('node:path');
const { compilerOptions } = require('./tsconfig.base.json');

const moduleNameMapper = Object.fromEntries(
  Object.entries(compilerOptions.paths).map(([alias, [target]]) => [
    `^${alias.replace('/', '\\/')}$`,
    path.join(__dirname, target),
  ]),
);

const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

/** @param {string} projectDir @param {'unit'|'integration'} kind */
function jestConfig(projectDir, kind) {
  const name = path.relative(__dirname, projectDir);
  return {
    displayName: `${name}:${kind}`,
    rootDir: projectDir,
    testEnvironment: 'node',
    transform: { '^.+\\.ts$': swc },
    moduleFileExtensions: ['ts', 'js', 'json'],
    moduleNameMapper,
    testMatch: kind === 'unit' ? ['<rootDir>/**/*.spec.ts'] : ['<rootDir>/**/*.int-spec.ts'],
    testPathIgnorePatterns: ['/node_modules/'],
    testTimeout: kind === 'unit' ? 10_000 : 120_000,
    ...(kind === 'integration' ? { maxWorkers: 1 } : {}),
  };
}

module.exports = { jestConfig, moduleNameMapper, swc };
