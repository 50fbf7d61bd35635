export * from './bootstrap';
export * from './health';
export * from './tally-exception.filter';
export * from './body-parser';
export * from './auth';
export * from './http-observability';
export * from './rate-limiter';
