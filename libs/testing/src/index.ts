export * from './env';
export * from './nats-server';
export * from './processes';
export * from './tcp-proxy';
export * from './png';
export * from './stripe-mock';
