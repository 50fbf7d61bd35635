import path from 'node:path';
import type { BundleOptions } from '@temporalio/worker';

const workspaceRoot = path.resolve(__dirname, '../../..');

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
