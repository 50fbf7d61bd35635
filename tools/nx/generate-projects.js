// Writes project.json, jest configs and tsconfig.json for every project in projects.json,
// so that all projects share one definition of their test/integration/lint/typecheck targets.
// A project has a `test` target if its `tests` lists "unit" and an `integration` target if it lists
// "integration"; each such target must run at least one test (no --passWithNoTests), and the CI
// summary (tools/ci/jest-summary.js) expects a report from every one. tools/nx/projects.spec.ts
// checks that `tests` matches the spec files on disk.
// Run: node tools/nx/generate-projects.js
const fs = require('node:fs');
const path = require('node:path');

const workspace = path.resolve(__dirname, '../..');
const projects = require('./projects.json');

function write(file, content) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

for (const [name, spec] of Object.entries(projects)) {
  const dir = path.join(workspace, spec.root);
  const up = path.relative(dir, workspace);
  // A project inside another one (tools/parity inside tools) runs its own tests, not its parent.
  const nested = Object.values(projects)
    .map((other) => other.root)
    .filter((root) => root.startsWith(`${spec.root}/`))
    .map((root) => path.relative(spec.root, root));
  const jestConfig = (kind) =>
    nested.length
      ? `module.exports = {\n  ...require('${up}/jest.preset.js').jestConfig(__dirname, '${kind}'),\n  testPathIgnorePatterns: ['/node_modules/', ${nested.map((n) => `'<rootDir>/${n}/'`).join(', ')}],\n};\n`
      : `module.exports = require('${up}/jest.preset.js').jestConfig(__dirname, '${kind}');\n`;
  const jestRun = (kind, config) =>
    `jest -c ${spec.root}/${config} --json --outputFile=.reports/jest/${name}-${kind}.json`;
  const kinds = spec.tests ?? [];
  const project = {
    name,
    $schema: `${up}/node_modules/nx/schemas/project-schema.json`,
    projectType: spec.type,
    sourceRoot: spec.root.startsWith('tools') ? spec.root : `${spec.root}/src`,
    tags: spec.tags,
    targets: {
      ...(kinds.includes('unit')
        ? { test: { executor: 'nx:run-commands', options: { command: jestRun('unit', 'jest.config.js') } } }
        : {}),
      ...(kinds.includes('integration')
        ? {
            integration: {
              executor: 'nx:run-commands',
              options: { command: `${jestRun('integration', 'jest.integration.config.js')} --runInBand` },
            },
          }
        : {}),
      lint: { executor: 'nx:run-commands', options: { command: `eslint ${spec.root}` } },
      typecheck: { executor: 'nx:run-commands', options: { command: `tsc -p ${spec.root}/tsconfig.json --noEmit` } },
      format: { executor: 'nx:run-commands', options: { command: `prettier --check ${spec.root}` } },
    },
  };
  if (spec.type === 'application' && name !== 'tools') {
    project.targets.serve = {
      executor: 'nx:run-commands',
      options: { command: `node -r @swc-node/register ${spec.root}/src/main.ts` },
    };
  }
  write(path.join(dir, 'project.json'), JSON.stringify(project, null, 2) + '\n');
  for (const [kind, config] of [
    ['unit', 'jest.config.js'],
    ['integration', 'jest.integration.config.js'],
  ]) {
    const file = path.join(dir, config);
    if (kinds.includes(kind)) {
      write(file, jestConfig(kind));
    } else {
      fs.rmSync(file, { force: true });
    }
  }
  write(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify(
      {
        extends: `${up}/tsconfig.base.json`,
        compilerOptions: { noEmit: true },
        include: ['**/*.ts'],
        exclude: ['node_modules'],
      },
      null,
      2,
    ) + '\n',
  );
}
console.log(`generated ${Object.keys(projects).length} projects`);
