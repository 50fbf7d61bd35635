/**
 * `@tally/billing-contracts`: the contract of the billing workflows, in one sandbox-safe place.
 * Workflow names and ids, signals, queries, search attributes, the inputs and results of workflows and
 * activities, the invoice documents, and pure helpers on them. Imported by the workflows (inside
 * Temporal's sandbox), the activities, the worker and every starter: no I/O, no Node built-ins, nothing
 * but `@temporalio/common` and types.
 */
export * from './workflows';
export * from './search-attributes';
export * from './inputs';
export * from './activities';
export * from './replay-counts';
export type * from './invoice';
export * from './simulations';
