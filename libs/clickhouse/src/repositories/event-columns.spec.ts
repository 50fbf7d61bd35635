/**
 * The `events` row against the one definition of an event's fields (`EVENT_FIELDS` of
 * @tally/event-schema): the DDL, `EVENT_COLUMNS` and every encoder of eventStore.ts write exactly
 * those columns, in that order, with those types. The encoders are unrolled by hand for speed; here
 * their bytes are decoded by a reader that knows nothing but the definition.
 */
import fc from 'fast-check';
import { EVENT_FIELD_COLUMNS, EVENT_FIELDS, type UsageEvent } from '@tally/event-schema';
import { RowBinaryReader, RowBinaryWriter } from '../row-binary';
import { migration0001 } from '../schema/0001_events';
import { DdlContext } from '../schema/ddl';
import {
  EVENT_COLUMNS,
  encodeEventRows,
  readEventFields,
  readEventFieldsSummary,
  serializeEventRows,
  writeEventFields,
  type EventFieldsSummary,
  type EventRow,
  type EventRowSource,
} from './eventStore';

/** The columns the writer adds around the event's own: not fields of the event. */
const ROW_COLUMNS_BEFORE = [{ name: 'tenant', type: 'String' }];
const ROW_COLUMNS_AFTER = [
  { name: 'received_at', type: "DateTime('UTC')" },
  { name: 'payload_hash', type: 'String' },
];
const EVENT_FIELD_COLUMN_TYPES: readonly { name: string; type: string }[] = EVENT_FIELDS.flatMap(
  (f): readonly { name: string; type: string }[] => f.columns,
);

/** Reads one value of a ClickHouse type from RowBinary: the types `EVENT_FIELDS` uses, nothing else. */
function readColumn(reader: RowBinaryReader, type: string): unknown {
  switch (type) {
    case 'String':
      return reader.string();
    case "DateTime('UTC')":
      return reader.uint32();
    case 'UInt16':
      return reader.uint16();
    case 'Decimal(38, 12)':
      return reader.decimal128(12);
    case 'Array(String)':
      return reader.stringArray();
    default:
      throw new Error(`no reader for ${type}`);
  }
}

/** The event's fields, decoded column by column in `EVENT_FIELDS` order. */
function readByDefinition(reader: RowBinaryReader): EventRowSource {
  const values: Record<string, unknown> = {};
  for (const { name, type } of EVENT_FIELD_COLUMN_TYPES) values[name] = readColumn(reader, type);
  const keys = values['properties.key'] as string[];
  const vals = values['properties.value'] as string[];
  const fields: Record<string, unknown> = {};
  for (const f of EVENT_FIELDS) {
    if (f.field === 'ts') fields.ts = (values.ts as number) * 1000 + (values.ts_ms as number);
    else if (f.field === 'properties') fields.properties = Object.fromEntries(keys.map((k, i) => [k, vals[i]]));
    else fields[f.field] = values[f.columns[0].name];
  }
  return fields as unknown as EventRowSource;
}

const eventArb: fc.Arbitrary<EventRowSource> = fc.record({
  id: fc.string({ maxLength: 12 }),
  ts: fc.integer({ min: 0, max: 4_291_747_199_999 }),
  customer: fc.string({ maxLength: 12 }),
  type: fc.string({ maxLength: 12 }),
  quantity: fc
    .tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 10n ** 26n - 1n }), fc.integer({ min: 0, max: 999_999_999 }))
    .map(([negative, integer, fraction]) => `${negative ? '-' : ''}${integer}.${String(fraction).padStart(9, '0')}`),
  properties: fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 5 }),
  source: fc.string({ maxLength: 6 }),
  schemaVersion: fc.string({ maxLength: 3 }),
  requestId: fc.string({ maxLength: 6 }),
});

/** Decimal text as `Decimal(38, 12)` gives it back: no trailing fraction zeros, no "-0". */
function canonical(quantity: string): string {
  const text = quantity.includes('.') ? quantity.replace(/0+$/, '').replace(/\.$/, '') : quantity;
  return text === '-0' ? '0' : text;
}

describe('the events row against EVENT_FIELDS', () => {
  it('EVENT_COLUMNS is tenant, the event fields in their order, then what the writer adds', () => {
    expect(EVENT_COLUMNS).toEqual([
      ...ROW_COLUMNS_BEFORE.map((c) => c.name),
      ...EVENT_FIELD_COLUMNS,
      ...ROW_COLUMNS_AFTER.map((c) => c.name),
    ]);
  });

  it('the events DDL declares those columns in that order with those types (and inserted_at, filled by the server)', () => {
    const [create] = migration0001.statements(new DdlContext({ database: 'tally' }));
    const body = create.text.slice(create.text.indexOf('(\n') + 2, create.text.indexOf('\n)'));
    const declared = body.split('\n').flatMap((line) => {
      const [, name, type] = /^\s*(\S+) (.+?),?$/.exec(line) ?? [];
      const nested = /^Nested\((.*)\)$/.exec(type);
      if (!nested) return [{ name, type }];
      return nested[1].split(', ').map((sub) => {
        const [subName, subType] = sub.split(' ');
        return { name: `${name}.${subName}`, type: `Array(${subType})` };
      });
    });
    expect(declared.filter((c) => c.name !== 'inserted_at')).toEqual([
      ...ROW_COLUMNS_BEFORE,
      ...EVENT_FIELD_COLUMN_TYPES,
      ...ROW_COLUMNS_AFTER,
    ]);
    expect(declared.find((c) => c.name === 'inserted_at')).toEqual({ name: 'inserted_at', type: "DateTime('UTC') DEFAULT now()" });
  });

  it('writeEventFields writes exactly the EVENT_FIELDS columns, in order; readEventFields and readEventFieldsSummary read the same record (fast-check)', () => {
    fc.assert(
      fc.property(eventArb, (event) => {
        const out = new RowBinaryWriter(256);
        writeEventFields(out, event, 0);
        const bytes = Buffer.from(out.bytes());
        const expected = { ...event, quantity: canonical(event.quantity) };

        const byDefinition = new RowBinaryReader(bytes);
        expect(readByDefinition(byDefinition)).toEqual(expected);
        expect(byDefinition.done).toBe(true);

        const full = new RowBinaryReader(bytes);
        expect(readEventFields(full)).toEqual(expected);
        expect(full.done).toBe(true);

        const summary = new RowBinaryReader(bytes);
        const into: EventFieldsSummary = { customer: '', ts: 0, id: '' };
        readEventFieldsSummary(summary, into);
        expect(into).toEqual({ customer: event.customer, ts: event.ts, id: event.id });
        expect(summary.done).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('encodeEventRows writes tenant, the event fields and the writer columns of EVENT_COLUMNS, in order', () => {
    const row: EventRow = {
      tenant: 't1',
      customer: 'c1',
      eventType: 'api_call',
      ts: 1_700_000_000,
      tsMs: 123,
      eventId: 'e1',
      quantity: '12.5',
      properties: { region: 'eu' },
      source: 'http',
      schemaVersion: '1',
      requestId: 'r1',
      receivedAt: 1_700_000_001,
      payloadHash: 'h1',
    };
    const reader = new RowBinaryReader(encodeEventRows([row]));
    const before = ROW_COLUMNS_BEFORE.map((c) => readColumn(reader, c.type));
    const fields = readByDefinition(reader);
    const after = ROW_COLUMNS_AFTER.map((c) => readColumn(reader, c.type));
    expect(reader.done).toBe(true);
    expect(before).toEqual(['t1']);
    expect(fields).toEqual<UsageEventFields>({
      id: 'e1',
      ts: 1_700_000_000_123,
      customer: 'c1',
      type: 'api_call',
      quantity: '12.5',
      properties: { region: 'eu' },
      source: 'http',
      schemaVersion: '1',
      requestId: 'r1',
    });
    expect(after).toEqual([1_700_000_001, 'h1']);
    // The JSONEachRow body names the same columns.
    expect(Object.keys(JSON.parse(serializeEventRows([row]))).sort()).toEqual([...EVENT_COLUMNS].sort());
  });
});

type UsageEventFields = Omit<UsageEvent, 'idGenerated' | 'tsGenerated'>;
