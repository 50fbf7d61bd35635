import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { opsBinary, repoRoot } from './ops-binaries';

const rules = path.join(repoRoot, 'deploy/prometheus/rules');

describe('Prometheus alert rules', () => {
  it('pass promtool check rules', () => {
    const out = execFileSync(
      opsBinary('promtool'),
      ['check', 'rules', path.join(rules, 'tally-alerts.yml')],
      { encoding: 'utf8' },
    );
    expect(out).toContain('SUCCESS');
  });

  it('fire on synthetic series, each alert at its moment and not before (promtool test rules)', () => {
    // Exits non-zero, with the difference, when an alert fires other than as the test file expects.
    const out = execFileSync(opsBinary('promtool'), ['test', 'rules', 'tally-alerts.test.yml'], {
      cwd: rules,
      encoding: 'utf8',
    });
    expect(out).toContain('SUCCESS');
  });
});
