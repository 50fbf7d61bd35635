export { alertId, keySegment, type AlertEnvelope } from './alert-envelope';
export { AlertStateStore, type AlertStateRecord } from './alert-state';
export { AlertDispatcher, type AlertDispatchOptions, type AlertRoute } from './alert-dispatcher';
export { PeriodicRun } from './periodic-run';
export {
  MAX_WEBHOOK_RESPONSE_BYTES,
  WEBHOOK_HEADERS,
  deliverWebhook,
  signWebhook,
  type DeliveryResult,
  type RetryPolicy,
  type WebhookDelivery,
} from './webhook';
