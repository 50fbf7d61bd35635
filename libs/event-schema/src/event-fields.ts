import type { UsageEvent } from './types';

/**
 * The one definition of an event's fields on the wire and on disk. Every encoding of an event lists
 * these fields and no others; each takes its order from here:
 *
 * - the `events` columns `customer` .. `request_id` (`columns`, in this table's order): the DDL of
 *   `events` (libs/clickhouse/src/schema/0001_events.ts), `EVENT_COLUMNS` and the RowBinary record
 *   `writeEventFields` / `readEventFields` write and read (libs/clickhouse/src/repositories/eventStore.ts),
 *   which the batch message (encoding 3) carries;
 * - the tuple of batch-message encoding 2 (`tuple`: its position; the flags follow at the end);
 * - the fingerprint input, format `f1` (`fingerprint`: its position; fields without one are not what
 *   an event means for billing).
 *
 * The encoders are unrolled by hand for speed (they run for every event). Specs prove that each writes
 * exactly these fields in these orders: event-fields.spec.ts here (fingerprint), event-columns.spec.ts
 * in @tally/clickhouse (DDL, `EVENT_COLUMNS`, the RowBinary record) and batch-message.spec.ts in
 * @tally/ingest-protocol (the tuple). None of the orders may change: messages, rows and fingerprints
 * already stored depend on them.
 */
export const EVENT_FIELDS = [
  { field: 'customer', columns: [{ name: 'customer', type: 'String' }], tuple: 2, fingerprint: 1 },
  { field: 'type', columns: [{ name: 'event_type', type: 'String' }], tuple: 3, fingerprint: 2 },
  {
    field: 'ts',
    // Epoch seconds and the milliseconds within them: ClickHouse 18.16 has no DateTime64.
    columns: [
      { name: 'ts', type: "DateTime('UTC')" },
      { name: 'ts_ms', type: 'UInt16' },
    ],
    tuple: 1,
    fingerprint: 0,
  },
  { field: 'id', columns: [{ name: 'event_id', type: 'String' }], tuple: 0 },
  { field: 'quantity', columns: [{ name: 'quantity', type: 'Decimal(38, 12)' }], tuple: 4, fingerprint: 3 },
  {
    field: 'properties',
    // Nested(key String, value String): 18.16 has no Map.
    columns: [
      { name: 'properties.key', type: 'Array(String)' },
      { name: 'properties.value', type: 'Array(String)' },
    ],
    tuple: 5,
    fingerprint: 4,
  },
  { field: 'source', columns: [{ name: 'source', type: 'String' }], tuple: 6 },
  { field: 'schemaVersion', columns: [{ name: 'schema_version', type: 'String' }], tuple: 7 },
  { field: 'requestId', columns: [{ name: 'request_id', type: 'String' }], tuple: 8 },
] as const satisfies readonly EventFieldDefinition[];

/** A stored field of `UsageEvent`: all of them but the two flags. */
export type StoredEventField = Exclude<keyof UsageEvent, EventFlag>;

export interface EventFieldDefinition {
  field: StoredEventField;
  /** Its `events` columns, with their ClickHouse types as the DDL writes them. */
  columns: readonly { name: string; type: string }[];
  /** Position in the tuple of batch-message encoding 2. */
  tuple: number;
  /** Position in the fingerprint input; absent: the fingerprint leaves the field out. */
  fingerprint?: number;
}

/**
 * The flags of an event: not stored in `events`, carried by the batch messages as the bits of one
 * number (the last element of an encoding-2 tuple, a byte before each encoding-3 event).
 */
export const EVENT_FLAG_BITS = { idGenerated: 1, tsGenerated: 2 } as const;
export type EventFlag = keyof typeof EVENT_FLAG_BITS;

/** The `events` columns of an event's own fields, in order: `customer` .. `request_id`. */
export const EVENT_FIELD_COLUMNS: readonly string[] = EVENT_FIELDS.flatMap((f) => f.columns.map((c) => c.name));

/** The fields of an encoding-2 tuple, by position (the flags follow them). */
export const EVENT_TUPLE_FIELDS: readonly StoredEventField[] = [...EVENT_FIELDS]
  .sort((a, b) => a.tuple - b.tuple)
  .map((f) => f.field);

/** The fields the fingerprint covers, in the order of its input. */
export const FINGERPRINT_FIELDS: readonly StoredEventField[] = EVENT_FIELDS.flatMap((f) =>
  'fingerprint' in f ? [{ field: f.field, at: f.fingerprint }] : [],
)
  .sort((a, b) => a.at - b.at)
  .map((f) => f.field);
