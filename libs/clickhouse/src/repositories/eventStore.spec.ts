import { RowBinaryWriter } from '../row-binary';
import { EventRowError, EventRowsEncoder, encodeEventRows, eventKey, serializeEventRows, toEventRow, writeEventFields, type EventRow } from './eventStore';

const row = (over: Partial<EventRow> = {}): EventRow => ({
  tenant: 't1',
  customer: 'c1',
  eventType: 'api_call',
  ts: 1_700_000_000,
  tsMs: 123,
  eventId: 'e1',
  quantity: '12.345678901234',
  properties: { region: 'eu', path: '/v1/"x"' },
  source: 'http',
  schemaVersion: '1',
  requestId: 'r1',
  receivedAt: 1_700_000_001,
  payloadHash: 'h1',
  ...over,
});

describe('serializeEventRows', () => {
  it('writes one JSONEachRow line per row with the quantity as bare digits', () => {
    expect(serializeEventRows([row()])).toBe(
      '{"quantity":12.345678901234,"tenant":"t1","customer":"c1","event_type":"api_call","ts":1700000000,' +
        '"ts_ms":123,"event_id":"e1","properties.key":["region","path"],"properties.value":["eu","/v1/\\"x\\""],' +
        '"source":"http","schema_version":"1","request_id":"r1","received_at":1700000001,"payload_hash":"h1"}',
    );
    expect(serializeEventRows([row(), row({ eventId: 'e2' })]).split('\n')).toHaveLength(2);
  });

  it.each([
    ['100000000000000000000000.5', '100000000000000000000000.5'],
    ['-0.000000000001', '-0.000000000001'],
    ['007', '7'],
    ['000.5', '0.5'],
    ['0', '0'],
    ['99999999999999999999999999.999999999999', '99999999999999999999999999.999999999999'],
  ])('quantity %s is written as %s', (quantity, written) => {
    expect(serializeEventRows([row({ quantity })])).toMatch(
      new RegExp(`^\\{"quantity":${written.replace('.', '\\.')},"tenant":`),
    );
  });

  it('keeps every string intact through JSON escaping', () => {
    const tricky = 'a"b\\c\u0000d\ne\u2028😀';
    const parsed = JSON.parse(
      serializeEventRows([row({ tenant: tricky, properties: { [tricky]: tricky } })]),
    );
    expect(parsed.tenant).toBe(tricky);
    expect(parsed['properties.key']).toEqual([tricky]);
    expect(parsed['properties.value']).toEqual([tricky]);
  });

  it('swaps the placeholder of the first key only, whatever the strings contain', () => {
    const evil = '{"quantity":0';
    const line = serializeEventRows([row({ tenant: evil, properties: { [evil]: evil }, quantity: '5' })]);
    expect(line.startsWith('{"quantity":5,"tenant":')).toBe(true);
    expect(JSON.parse(line)).toMatchObject({ quantity: 5, tenant: evil, 'properties.key': [evil] });
  });

  it('writes empty properties as empty arrays', () => {
    expect(serializeEventRows([row({ properties: {} })])).toContain(
      '"properties.key":[],"properties.value":[]',
    );
  });

  it.each<[string, Partial<EventRow>, string]>([
    ['float quantity', { quantity: 1.5 as unknown as string }, 'quantity'],
    ['exponent', { quantity: '1e3' }, 'quantity'],
    ['quoted injection', { quantity: '1,"tenant":"x"' }, 'quantity'],
    ['13 fraction digits', { quantity: '1.0000000000001' }, 'quantity'],
    ['27 integer digits', { quantity: '1' + '0'.repeat(26) }, 'quantity'],
    ['fractional ts', { ts: 1.5 }, 'ts'],
    ['negative ts', { ts: -1 }, 'ts'],
    ['ts in milliseconds by mistake', { ts: 1_700_000_000_000 }, 'ts'],
    ['tsMs 1000', { tsMs: 1000 }, 'tsMs'],
    ['receivedAt as a string', { receivedAt: '1700000000' as unknown as number }, 'receivedAt'],
    ['tenant missing', { tenant: undefined as unknown as string }, 'tenant'],
    ['non-string property', { properties: { n: 1 as unknown as string } }, 'properties.n'],
  ])('rejects %s', (_name, over, field) => {
    expect(() => serializeEventRows([row(), row(over)])).toThrow(EventRowError);
    try {
      serializeEventRows([row(), row(over)]);
    } catch (e) {
      expect(e).toMatchObject({ index: 1, field, code: 'EVENT_ROW_INVALID' });
    }
  });
});

describe('eventKey', () => {
  it('joins tenant and event id with NUL', () => {
    expect(eventKey('t', 'e')).toBe('t\u0000e');
  });
});

describe('EventRowsEncoder', () => {
  const event = {
    id: 'e1',
    ts: 1_700_000_000_123,
    customer: 'c1',
    type: 'api_call',
    quantity: '12.345678901234',
    properties: { region: 'eu', path: '/v1/"x"' },
    source: 'http',
    schemaVersion: '1',
    requestId: 'r1',
  };

  it('writes the same bytes for an event encoded by the gateway as for its seconds-based row', () => {
    const fields = new RowBinaryWriter();
    writeEventFields(fields, event, 0);
    const fromEvent = new EventRowsEncoder();
    fromEvent.appendEncoded('t1', fields.bytes(), 0, fields.length, 1_700_000_001_999, 'h1');
    expect(fromEvent.body().toString('hex')).toBe(encodeEventRows([row()]).toString('hex'));
  });

  it('toEventRow is the seconds-based row of an event: the same bytes again', () => {
    const fromRow = toEventRow({ tenant: 't1', event, fingerprint: 'h1', receivedAt: 1_700_000_001_999 });
    expect(fromRow).toEqual(row());
    expect(encodeEventRows([fromRow]).toString('hex')).toBe(encodeEventRows([row()]).toString('hex'));
  });

  it('lays the columns out in EVENT_COLUMNS order', () => {
    const body = encodeEventRows([row({ properties: { k: 'v' }, quantity: '1' })]);
    const expected = Buffer.concat([
      Buffer.from('\x02t1\x02c1\x08api_call', 'latin1'),
      Buffer.from([0x00, 0xf1, 0x53, 0x65]), // ts 1_700_000_000 LE
      Buffer.from([123, 0]), // ts_ms
      Buffer.from('\x02e1', 'latin1'),
      Buffer.from('0010a5d4e8000000' + '0'.repeat(16), 'hex'), // 1 × 10^12
      Buffer.from('\x01\x01k\x01\x01v', 'latin1'),
      Buffer.from('\x04http\x011\x02r1', 'latin1'),
      Buffer.from([0x01, 0xf1, 0x53, 0x65]), // received_at 1_700_000_001
      Buffer.from('\x02h1', 'latin1'),
    ]);
    expect(body.toString('hex')).toBe(expected.toString('hex'));
  });

  it('names the row and field of a value it cannot write', () => {
    const encoder = new EventRowsEncoder();
    encoder.appendRow(row());
    expect(() => encoder.appendRow(row({ quantity: '1e5' }))).toThrow(new EventRowError(1, 'quantity', 'must be decimal text (^-?\\d+(\\.\\d+)?$), got "1e5"'));
    expect(() => encoder.appendRow(row({ tsMs: 1000 }))).toThrow(EventRowError);
    expect(() => encoder.appendRow(row({ ts: -1 }))).toThrow(/ts must be whole epoch seconds/);
    expect(() => encoder.appendRow(row({ properties: { a: 1 as unknown as string } }))).toThrow(/properties\.a must be a string/);
    expect(() => writeEventFields(new RowBinaryWriter(), { ...event, ts: 1.5 }, 0)).toThrow(/ts must be whole epoch milliseconds/);
  });
});
