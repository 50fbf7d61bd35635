// Test-only entry point of @tally/catalog-api (`@tally/catalog-api/testing`): in-memory ports for unit
// tests of code built on the catalog. Production code never imports it (eslint.config.mjs bans `@tally/*/testing`).
export { InMemoryApiKeys, InMemoryCatalog } from './in-memory-catalog';
