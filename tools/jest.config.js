module.exports = {
  ...require('../jest.preset.js').jestConfig(__dirname, 'unit'),
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/parity/'],
};
