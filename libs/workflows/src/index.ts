// Workflow code only: this file is the entry the worker bundles into Temporal's sandbox.
export * from './echo.workflow';
