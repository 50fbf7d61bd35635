import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const workspace = path.resolve(__dirname, '../..');
const projects = JSON.parse(readFileSync(path.join(__dirname, 'projects.json'), 'utf8')) as Record<
  string,
  { root: string; tests?: string[] }
>;

function specFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (['node_modules', 'dist', '.data', '.reports', '.nx'].includes(entry.name)) continue;
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) specFiles(file, out);
    else if (entry.name.endsWith('.spec.ts') || entry.name.endsWith('.int-spec.ts')) out.push(file);
  }
  return out;
}

describe('projects.json', () => {
  // Targets run without --passWithNoTests and CI expects a report from each: a project whose specs and
  // targets disagree would either fail for no test or, worse, never run the specs it has.
  it.each(Object.keys(projects))('%s declares exactly the kinds of tests it has', (name) => {
    const { root, tests = [] } = projects[name];
    const files = specFiles(path.join(workspace, root));
    const onDisk = [
      ...(files.some((f) => !f.endsWith('.int-spec.ts')) ? ['unit'] : []),
      ...(files.some((f) => f.endsWith('.int-spec.ts')) ? ['integration'] : []),
    ];
    expect([...tests].sort()).toEqual(onDisk.sort());
  });

  it.each(Object.keys(projects))(
    '%s has the generated targets for them (node tools/nx/generate-projects.js)',
    (name) => {
      const { root, tests = [] } = projects[name];
      const project = JSON.parse(readFileSync(path.join(workspace, root, 'project.json'), 'utf8')) as {
        targets: Record<string, { options: { command: string } }>;
      };
      const expected = tests.map((kind) => (kind === 'unit' ? 'test' : 'integration')).sort();
      expect(
        Object.keys(project.targets)
          .filter((t) => t === 'test' || t === 'integration')
          .sort(),
      ).toEqual(expected);
      for (const target of expected)
        expect(project.targets[target].options.command).not.toContain('--passWithNoTests');
    },
  );
});
