import { ValidationFailedError } from '@tally/errors';
import { parseMeterDefinition } from '@tally/metering';
import { topCustomers, type TopCustomersParams } from './top-customers';

const meter = parseMeterDefinition({
  key: 'tokens',
  name: 'Tokens',
  eventTypes: ['completion'],
  aggregation: 'sum',
  valueProperty: 'tokens',
  profiles: [
    { key: 'users', name: 'Users', aggregation: 'unique_count', valueProperty: 'user', filters: [] },
  ],
});

const params = (overrides: Partial<TopCustomersParams> = {}): TopCustomersParams => ({
  database: 'tally',
  tenant: 'acme',
  meter,
  from: new Date('2026-03-01T00:00:00Z'),
  to: new Date('2026-04-01T00:00:00Z'),
  limit: 10,
  ...overrides,
});

const P = (name: string) => `properties.value[indexOf(properties.key, '${name}')]`;
const RE = "'^-?[0-9]{1,26}(\\\\.[0-9]{1,12})?$'";
const WHERE =
  "WHERE tenant = 'acme' AND event_type IN ('completion') AND ts >= toDateTime('2026-03-01 00:00:00', 'UTC') AND ts < toDateTime('2026-04-01 00:00:00', 'UTC')";

describe('topCustomers', () => {
  it('orders by the numeric aggregate (not its text), ties by customer', () => {
    const num = `toDecimal128(if(match(${P('tokens')}, ${RE}), ${P('tokens')}, '0'), 12)`;
    expect(topCustomers(params()).text).toBe(
      [
        `SELECT customer, replaceRegexpOne(toString(sum(${num})), '\\\\.0*$|(\\\\.[0-9]*[1-9])0+$', '\\\\1') AS value`,
        'FROM `tally`.`events`',
        `${WHERE} AND match(${P('tokens')}, ${RE})`,
        'GROUP BY customer',
        `ORDER BY sum(${num}) DESC, customer`,
        'LIMIT 10',
      ].join('\n'),
    );
  });

  it('for a profile, with extra filters', () => {
    expect(
      topCustomers(
        params({
          profile: 'users',
          limit: 3,
          extraFilters: [{ property: 'model', operator: 'ne', value: 'mini' }],
        }),
      ).text,
    ).toBe(
      [
        `SELECT customer, toString(uniqExact(${P('user')})) AS value`,
        'FROM `tally`.`events`',
        `${WHERE} AND ${P('model')} != 'mini' AND has(properties.key, 'user')`,
        'GROUP BY customer',
        `ORDER BY uniqExact(${P('user')}) DESC, customer`,
        'LIMIT 3',
      ].join('\n'),
    );
  });

  it('validates its parameters', () => {
    expect(() => topCustomers(params({ limit: 1.5 }))).toThrow(ValidationFailedError);
    expect(() => topCustomers(params({ profile: 'nope' }))).toThrow(ValidationFailedError);
  });
});
