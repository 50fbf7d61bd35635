// Test-only entry point of @tally/analytics-engine (`@tally/analytics-engine/testing`): fixtures for
// specs and integration tests. Production code never imports it (eslint.config.mjs bans `@tally/*/testing`).
export { SEED_000_QUERIES, SEED_001_QUERIES } from './test-support/seed-queries';
