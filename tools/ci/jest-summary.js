// Sums every Jest JSON report in a folder into the one line CI reads: "N passed, N failed".
// A suite that crashed before running its tests counts as one failure so it cannot hide.
const fs = require('node:fs');
const path = require('node:path');

const dir = process.argv[2] ?? '.reports/jest';
let passed = 0;
let failed = 0;
const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
for (const file of files) {
  const report = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests + report.numRuntimeErrorTestSuites;
  if (!report.success) console.error(`failures in ${file}`);
}
if (process.argv.includes('--expect-reports') && files.length === 0) failed += 1;
console.log(`${passed} passed, ${failed} failed`);
