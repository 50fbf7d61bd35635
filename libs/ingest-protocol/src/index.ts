export * from './batch-message';
export * from './batch-message-id';
export * from './admission';
export * from './dead-letters/dead-letter';
export * from './dead-letters/jetstream-dead-letters';
export * from './partition-batch';
