export * from './echo.activities';
export * from './billing.activities';
export * from './billing-metrics';
