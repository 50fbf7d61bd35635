import { parseMeterDefinition } from '@tally/metering';

/** The range every roll-up builder spec asks about: whole UTC hours, March 2026 in New York. */
export const FROM = new Date('2026-03-01T05:00:00Z');
export const TO = new Date('2026-04-01T04:00:00Z');
/** The WHERE of the meter `calls` over that range, as the customer-first hourly roll-up reads it. */
export const WHERE_CALLS =
  "WHERE tenant = 'acme' AND event_type IN ('call') AND hour >= toDateTime('2026-03-01 05:00:00', 'UTC') AND hour < toDateTime('2026-04-01 04:00:00', 'UTC')";

export const meter = (input: Record<string, unknown>) =>
  parseMeterDefinition({ key: 'calls', name: 'Calls', eventTypes: ['call'], aggregation: 'count', ...input });
