export * from './bundle';
export * from './client';
export * from './schedules';
export * from './search-attributes';
export * from './logger';
