export * from './bundle';
export * from './search-attributes';
