/**
 * `@tally/billing/testing`: billing's ports in memory, for unit specs of the services (and of code
 * built on them). Not for production: nothing here is durable or shared between processes.
 */
export * from './in-memory-ports';
