module.exports = {
  ...require('../jest.preset.js').jestConfig(__dirname, 'integration'),
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/parity/'],
};
