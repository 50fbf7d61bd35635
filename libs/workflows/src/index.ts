// Workflow code only: this file is the entry the worker bundles into Temporal's sandbox.
export * from './echo.workflow';
export * from './invoice.workflow';
export * from './billing-run.workflow';
export * from './rebill.workflow';
export * from './dead-letter-replay.workflow';
export * from './simulation.workflow';
export * from './progressive-billing.workflow';
export * from './credit-grant.workflow';
