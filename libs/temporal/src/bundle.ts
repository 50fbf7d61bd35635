import { existsSync } from 'node:fs';
import path from 'node:path';
import type { BundleOptions } from '@temporalio/worker';

/** The directory with tsconfig.base.json: the same from the sources and from the compiled dist/. */
function findWorkspaceRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'tsconfig.base.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from, '../../..');
  }
}

const workspaceRoot = findWorkspaceRoot(__dirname);

/**
 * Temporal's workflow bundler (webpack) does not read tsconfig path aliases, so the `@tally/*`
 * aliases are resolved here from tsconfig.base.json: the one source of truth for them.
 */
export function workflowBundlerHook(): NonNullable<BundleOptions['webpackConfigHook']> {
  const { compilerOptions } = require(path.join(workspaceRoot, 'tsconfig.base.json')) as {
    compilerOptions: { paths: Record<string, string[]> };
  };
  const alias = Object.fromEntries(
    Object.entries(compilerOptions.paths).map(([name, [target]]) => [`${name}$`, path.join(workspaceRoot, target)]),
  );
  return (config) => ({
    ...config,
    resolve: { ...config.resolve, alias: { ...(config.resolve?.alias as object), ...alias } },
  });
}

/** Path of the workflows lib entry the worker bundles. */
export const workflowsPath = path.join(workspaceRoot, 'libs/workflows/src/index.ts');
