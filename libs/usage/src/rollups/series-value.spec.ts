import { seriesUsesRollup, type BucketRow } from '@tally/clickhouse';
import { parseMeterDefinition, resolveSeries } from '@tally/metering';
import { monthsOf, meterUsesRollup, rangeUsesRollup } from './eligibility';
import { seriesValue } from './series-value';

const meter = (input: Record<string, unknown>) =>
  parseMeterDefinition({ key: 'calls', name: 'Calls', eventTypes: ['call'], aggregation: 'count', ...input });

describe('roll-up series values', () => {
  it('series values from buckets, exactly as ClickHouse computes them', () => {
    const rows: BucketRow[] = [
      {
        event_type: 'call',
        events: '2',
        quantity_sum: '10.000000000000',
        quantity_min: '-1.500000000000',
        quantity_max: '11.500000000000',
      },
      {
        event_type: 'call',
        events: '1',
        quantity_sum: '0.000000000001',
        quantity_min: '0.000000000001',
        quantity_max: '0.000000000001',
      },
      { event_type: 'sms', events: '5', quantity_sum: '1000', quantity_min: '-50', quantity_max: '900' },
    ];
    const value = (aggregation: string, eventTypes = ['call']) =>
      seriesValue(
        resolveSeries(
          meter({
            aggregation,
            eventTypes,
            ...(aggregation === 'count' ? {} : { valueProperty: 'quantity' }),
          }),
        ),
        rows,
      );
    expect(value('count')).toBe('3');
    expect(value('count', ['call', 'sms'])).toBe('8');
    expect(value('sum')).toBe('10.000000000001');
    expect(value('min')).toBe('-1.5');
    expect(value('max', ['call', 'sms'])).toBe('900');
    expect(value('avg')).toBe('3.333333333333'); // truncated, as Decimal / UInt64 in ClickHouse
    expect(seriesValue(resolveSeries(meter({ aggregation: 'avg', valueProperty: 'quantity' })), [])).toBe(
      '0',
    );
    expect(
      seriesValue(
        resolveSeries(meter({ aggregation: 'min', valueProperty: 'quantity', eventTypes: ['nothing'] })),
        rows,
      ),
    ).toBe('0');
  });
});

describe('roll-up eligibility', () => {
  it('count, and sum/min/max/avg of quantity, without filters', () => {
    expect(seriesUsesRollup(resolveSeries(meter({})))).toBe(true);
    for (const aggregation of ['sum', 'min', 'max', 'avg']) {
      expect(seriesUsesRollup(resolveSeries(meter({ aggregation, valueProperty: 'quantity' })))).toBe(true);
      expect(seriesUsesRollup(resolveSeries(meter({ aggregation, valueProperty: 'duration' })))).toBe(false);
    }
    expect(
      seriesUsesRollup(resolveSeries(meter({ aggregation: 'unique_count', valueProperty: 'quantity' }))),
    ).toBe(false);
    expect(seriesUsesRollup(resolveSeries(meter({ aggregation: 'latest', valueProperty: 'quantity' })))).toBe(
      false,
    );
    expect(seriesUsesRollup(resolveSeries(meter({ filters: [{ property: 'x', operator: 'exists' }] })))).toBe(
      false,
    );
    const withProfile = meter({
      profiles: [
        {
          key: 'usa',
          name: 'US',
          aggregation: 'count',
          filters: [{ property: 'country', operator: 'eq', value: 'USA' }],
        },
      ],
    });
    expect(seriesUsesRollup(resolveSeries(withProfile))).toBe(true);
    expect(seriesUsesRollup(resolveSeries(withProfile, 'usa'))).toBe(false);
    expect(meterUsesRollup(withProfile)).toBe(false);
  });

  it('whole UTC hours, no minute windows, zones whose offset is whole hours', () => {
    const from = new Date('2026-03-01T05:00:00Z');
    const to = new Date('2026-04-01T04:00:00Z');
    expect(rangeUsesRollup(from, to, 'none', 'Asia/Kolkata')).toBe(true);
    expect(rangeUsesRollup(from, to, 'day', 'America/New_York')).toBe(true);
    expect(rangeUsesRollup(from, to, 'hour', 'Europe/Berlin')).toBe(true);
    expect(rangeUsesRollup(from, to, 'day', 'Asia/Kolkata')).toBe(false);
    expect(rangeUsesRollup(from, to, 'day', 'Australia/Lord_Howe')).toBe(false); // 30-minute DST
    expect(rangeUsesRollup(from, to, 'minute', 'UTC')).toBe(false);
    expect(rangeUsesRollup(new Date('2026-03-01T05:00:01Z'), to, 'none', 'UTC')).toBe(false);
    expect(rangeUsesRollup(from, new Date('2026-04-01T04:30:00Z'), 'none', 'UTC')).toBe(false);
  });

  it('months of a range as toYYYYMM reports them', () => {
    expect(monthsOf(new Date('2026-02-28T23:00:00Z'), new Date('2026-04-01T00:00:00Z'))).toEqual([
      202602, 202603,
    ]);
    expect(monthsOf(new Date('2025-12-31T00:00:00Z'), new Date('2026-01-01T00:00:01Z'))).toEqual([
      202512, 202601,
    ]);
  });
});
