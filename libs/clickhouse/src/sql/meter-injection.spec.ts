/**
 * Hostile text in every place a caller or an operator controls (tenant, customers, event types,
 * property names in filters and group-by, filter values) must stay inside one SQL literal. The
 * property test below strips every literal from the SQL and checks that what is left (the query's
 * structure) is the same as with harmless values, and that each literal decodes to exactly the input.
 */
import fc from 'fast-check';
import { customerPeriodUsage } from './customer-period-usage';
import { type Filter, parseMeterDefinition } from '@tally/metering';
import { meterQuery } from './meter-query';
import { topCustomers } from './top-customers';

/** Splits SQL into its structure (literals replaced by `?`) and the decoded literals, in order. */
function tokenize(sqlText: string): { skeleton: string; literals: string[] } {
  let skeleton = '';
  const literals: string[] = [];
  let i = 0;
  while (i < sqlText.length) {
    const ch = sqlText[i];
    if (ch !== "'") {
      skeleton += ch;
      i++;
      continue;
    }
    let value = '';
    i++;
    for (;;) {
      if (i >= sqlText.length) throw new Error(`unterminated literal in: ${sqlText}`);
      const c = sqlText[i];
      if (c === "'") break;
      if (c === '\\') {
        const e = sqlText[i + 1];
        if (e === 'x') {
          value += String.fromCharCode(parseInt(sqlText.slice(i + 2, i + 4), 16));
          i += 4;
        } else {
          value += ({ '0': '\0', n: '\n', r: '\r', t: '\t' } as Record<string, string>)[e] ?? e;
          i += 2;
        }
        continue;
      }
      // Raw control characters never appear inside a literal (quote.ts escapes them).
      if (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)
        throw new Error(`raw control character in: ${sqlText}`);
      value += c;
      i++;
    }
    i++;
    skeleton += '?';
    literals.push(value);
  }
  return { skeleton, literals };
}

const HOSTILE = [
  "'",
  "\\'",
  '\\',
  "'; DROP TABLE events; --",
  "' OR 1=1 --",
  '-- comment',
  '/* open',
  '*/',
  '`backquote`',
  '"double"',
  '\u0000',
  'a\u0000b',
  '\n\r\t\u0001\u001f\u007f',
  'é😀中\u2028\u00a0',
  "\\'; --",
  '${x}',
  '?',
];

const hostile = fc.oneof(
  fc.constantFrom(...HOSTILE),
  fc.fullUnicodeString({ minLength: 1, maxLength: 20 }),
  fc
    .array(fc.constantFrom("'", '\\', '\0', '--', '/*', '*/', ';', '`', '\n', 'x', '😀'), {
      minLength: 1,
      maxLength: 12,
    })
    .map((a) => a.join('')),
);

function build(v: { tenant: string; customer: string; type: string; prop: string; value: string }) {
  const filters: Filter[] = [
    { property: v.prop, operator: 'eq', value: v.value },
    { property: [v.prop], operator: 'in', value: [v.value, 'x'] },
    { property: v.prop, operator: 'not_in', value: v.value },
    { property: v.prop, operator: 'ne', value: v.value },
    { property: v.prop, operator: 'exists' },
    { property: v.prop, operator: 'gt', value: '1.5' },
  ];
  const meter = parseMeterDefinition({
    key: 'm',
    name: v.value,
    eventTypes: [v.type],
    aggregation: 'unique_count',
    valueProperty: v.prop,
    filters,
    groupBy: [v.prop],
  });
  const common = { database: 'tally', tenant: v.tenant, meter, from: new Date(0), to: new Date(86_400_000) };
  return [
    meterQuery({
      ...common,
      window: 'day',
      timezone: 'UTC',
      customers: [v.customer],
      groupBy: [v.prop],
      groupByCustomer: true,
      extraFilters: filters,
      limit: 10,
    }).text,
    customerPeriodUsage({ ...common, customer: v.customer, meters: [meter], timezone: 'UTC' }).text,
    topCustomers({ ...common, extraFilters: filters, limit: 10 }).text,
  ];
}

const harmless = { tenant: 'acme', customer: 'c1', type: 'call', prop: 'country', value: 'USA' };
const reference = build(harmless).map(tokenize);

describe('SQL injection', () => {
  it.each(HOSTILE)('keeps %j inside literals in every builder', (s) => {
    const v = { tenant: s, customer: s, type: s, prop: s === '' ? 'p' : s, value: s };
    build(v).forEach((text, i) => {
      const { skeleton, literals } = tokenize(text);
      expect(skeleton).toBe(reference[i].skeleton);
      expect(literals).toContain(s);
    });
  });

  it('an example, quoted as expected', () => {
    const [text] = build({
      tenant: 'acme',
      customer: "o'b",
      type: 'call',
      prop: "it's",
      value: "a\\b'--/*\u0000",
    });
    expect(text).toContain("properties.value[indexOf(properties.key, 'it\\'s')] = 'a\\\\b\\'--/*\\0'");
    expect(text).toContain("customer IN ('o\\'b')");
  });

  it('the structure never changes, whatever the values (property)', () => {
    fc.assert(
      fc.property(
        fc.record({ tenant: hostile, customer: hostile, type: hostile, prop: hostile, value: hostile }),
        (v) => {
          // Lone surrogates are refused by validation (they have no exact UTF-8 form); skip them here.
          const lone = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
          fc.pre(!Object.values(v).some((s) => lone.test(s)) && v.prop.length <= 128 && v.type.length <= 128);
          build(v).forEach((text, i) => {
            const { skeleton, literals } = tokenize(text);
            expect(skeleton).toBe(reference[i].skeleton);
            for (const s of [v.tenant, v.prop, v.value]) expect(literals).toContain(s);
            if (i < 2) expect(literals).toContain(v.customer); // topCustomers names no customer
            expect(literals.length).toBe(reference[i].literals.length);
          });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses lone surrogates in meter definitions before they reach SQL', () => {
    expect(() =>
      parseMeterDefinition({
        key: 'm',
        name: 'm',
        eventTypes: ['a'],
        aggregation: 'count',
        filters: [{ property: 'p', operator: 'eq', value: '\uD800' }],
      }),
    ).toThrow('Invalid meter');
  });
});
