export { TallyClient, TallyDataset, MAX_POINTS_PER_BATCH, type TallyClientOptions } from './client';
export { httpTransport, type HttpTransportOptions } from './http-transport';
export { natsTransport, type NatsTransportOptions } from './nats-transport';
export type { Transport, TransportRequest, TransportResponse } from './transport';
export { DEFAULT_RETRY, parseRetryAfter, retryDelayMs, type RetryPolicy } from './backoff';
export {
  TallyConfigError,
  TallyDeliveryError,
  TallyRejectedError,
  TallySdkError,
  TallyUnavailableError,
  TallyValidationError,
  type FieldIssue,
} from './errors';
export type {
  DataPointInput,
  DropInfo,
  DropReason,
  IngestKind,
  TallyDataPoint,
  TallyEvent,
  TallyStats,
  UsageEventInput,
} from './types';
