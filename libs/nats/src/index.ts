export * from './connection';
export * from './names';
export * from './streams';
export * from './stream-metrics';
