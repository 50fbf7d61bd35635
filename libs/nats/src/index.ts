export * from './completeness';
export * from './connection';
export * from './late-event-notice';
export * from './names';
export * from './stream-drift';
export * from './streams';
export * from './stream-metrics';
export * from './permissions';
