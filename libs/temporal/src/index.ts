export * from './bundle';
export * from './client';
export * from './schedules';
export * from './logger';
export * from './health';
