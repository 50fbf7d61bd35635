export * from './tally-error';
