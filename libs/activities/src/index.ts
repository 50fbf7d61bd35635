export * from './echo.activities';
