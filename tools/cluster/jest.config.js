// `npm run test:cluster` (tools/cluster/test.sh): the tests that need the cluster topology of
// tools/cluster/cluster.sh. Not matched by the integration targets (they run on the single servers).
module.exports = {
  ...require('../../jest.preset.js').jestConfig(__dirname, 'integration'),
  displayName: 'tools/cluster',
  testMatch: ['<rootDir>/**/*.cluster-spec.ts'],
  testTimeout: 300_000,
};
