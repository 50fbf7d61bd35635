// Sums every Jest JSON report in a folder into the one line CI reads: "N passed, N failed", and exits
// non-zero when anything failed. A suite that crashed before running its tests counts as one failure
// so it cannot hide.
//
// With --expect-reports, the projects that must report come from the Nx graph: every project with a
// `test` target must have written <project>-unit.json and every project with an `integration` target
// <project>-integration.json, each with at least one test. A missing report or a report of zero tests
// (a broken test pattern, a crashed runner) counts as one failure and is named on stderr.
//   --targets test,integration   which targets to expect (default both; `test` alone after a unit run)
//   --projects a,b               only these projects (a partial run)
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const REPORT_KIND = { test: 'unit', integration: 'integration' };

function option(name) {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}

/** Projects of the Nx graph with `target`. */
function projectsWithTarget(target) {
  const out = execFileSync('npx', ['nx', 'show', 'projects', '--with-target', target, '--json'], {
    cwd: path.resolve(__dirname, '../..'),
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.slice(out.indexOf('[')));
}

/** `[project, report file]` for every report the run must have written. */
function expectedReports(targets, only) {
  const expected = [];
  for (const target of targets) {
    if (!REPORT_KIND[target]) throw new Error(`unknown target '${target}' (test or integration)`);
    for (const project of projectsWithTarget(target).sort()) {
      if (!only || only.includes(project)) expected.push([project, `${project}-${REPORT_KIND[target]}.json`]);
    }
  }
  return expected;
}

function main() {
  const first = process.argv[2];
  const dir = first && !first.startsWith('--') ? first : '.reports/jest';
  let passed = 0;
  let failed = 0;
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
  const reports = new Map();
  for (const file of files) {
    const report = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    reports.set(file, report);
    passed += report.numPassedTests;
    failed += report.numFailedTests + report.numRuntimeErrorTestSuites;
    if (!report.success) console.error(`failures in ${file}`);
  }
  if (process.argv.includes('--expect-reports')) {
    const targets = (option('--targets') ?? 'test,integration').split(',');
    const only = option('--projects')?.split(',');
    for (const [project, file] of expectedReports(targets, only)) {
      const report = reports.get(file);
      if (!report) {
        console.error(`missing report: ${project} wrote no ${file} (its tests did not run)`);
        failed += 1;
      } else if (report.numTotalTests === 0) {
        console.error(`no tests: ${project} ran 0 tests (${file})`);
        failed += 1;
      }
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = main();
