import type { SimulationSpec } from '@tally/billing-contracts';
import {
  customerSchema,
  meterSchema,
  parseEntity,
  planSchema,
  subscriptionSchema,
  tenantSchema,
} from '@tally/catalog';
import {
  InMemoryBillingCatalog,
  InMemoryClosedPeriods,
  InMemoryInvoiceLedger,
  InMemoryUsageSource,
  RecordingNotices,
  SteppingWatermark,
} from '@tally/billing/testing';
import { ValidationFailedError } from '@tally/errors';
import type { Plan } from '@tally/pricing';
import { createLogger } from '@tally/observability';
import { createBillingServices } from '../core/billing-services';
import { simulationCsvHeader, simulationCsvRows } from './simulation-csv';

const NOW = Date.parse('2026-11-01T06:00:00Z');
const PERIOD = '2026-10';

const PRO_PLAN = {
  id: 'pro',
  name: 'Pro',
  currency: 'USD',
  charges: [
    { id: 'base', name: 'Platform fee', kind: 'flat', amount: '10' },
    { id: 'calls', name: 'API calls', kind: 'per_unit', meter: 'calls', unitPrice: '0.05' },
  ],
};

/** Customers a (UTC, 100 calls), b (Asia/Tokyo, 7 calls) and c (UTC, no usage), all on `pro`, invoiced for October. */
async function invoicedWorld() {
  const customer = (id: string, timezone?: string) => ({
    customer: parseEntity(
      customerSchema,
      { tenant: 'acme', id, ...(timezone ? { timezone } : {}), createdAt: '2026-01-01T00:00:00Z' },
      'customer',
    ),
  });
  const subscription = (customer: string) => ({
    subscription: parseEntity(
      subscriptionSchema,
      { tenant: 'acme', id: `s-${customer}`, customer, plan: 'pro', start: '2026-01-01' },
      'subscription',
    ),
  });
  const meter = (key: string, eventType: string) => ({
    meter: parseEntity(
      meterSchema,
      { tenant: 'acme', key, name: key, eventTypes: [eventType], aggregation: 'count', version: 1 },
      'meter',
    ),
  });
  const catalog = new InMemoryBillingCatalog().put(
    {
      tenant: parseEntity(
        tenantSchema,
        { id: 'acme', name: 'Acme', timezone: 'UTC', currency: 'USD' },
        'tenant',
      ),
    },
    customer('a'),
    customer('b', 'Asia/Tokyo'),
    customer('c'),
    meter('calls', 'call'),
    meter('seats', 'seat'),
    { plan: parseEntity(planSchema, { tenant: 'acme', ...PRO_PLAN }, 'plan') },
    subscription('a'),
    subscription('b'),
    subscription('c'),
  );
  const ports = {
    catalog,
    meterVersions: catalog,
    ledger: new InMemoryInvoiceLedger(),
    closed: new InMemoryClosedPeriods(),
    watermark: new SteppingWatermark(10, 10, 5),
    usage: new InMemoryUsageSource(
      [
        { customer: 'a', series: 'calls', value: '100' },
        { customer: 'b', series: 'calls', value: '7' },
        { customer: 'b', series: 'seats', value: '3' },
      ],
      [
        { customer: 'a', event_count: '100', checksum: '7' },
        { customer: 'b', event_count: '7', checksum: '11' },
      ],
    ),
    notices: new RecordingNotices(),
    logger: createLogger('simulation-spec', 'silent'),
    clock: () => NOW,
  };
  const services = createBillingServices(ports);
  const owner = 'invoice/acme/batch';
  const close = await services.closer.closePeriods(
    { tenant: 'acme', owner, periods: ['a', 'b', 'c'].map((customer) => ({ customer, period: PERIOD })) },
    undefined,
    0,
  );
  const periods = close.outcomes.flatMap((o) =>
    o.status === 'claimed' ? [{ customer: o.customer, share: o.share }] : [],
  );
  const issued = await services.issuer.issueInvoices({ tenant: 'acme', owner, periods });
  expect(issued.map((o) => [o.customer, o.status, 'totalMinor' in o ? o.totalMinor : ''])).toEqual([
    ['a', 'issued', '1500'],
    ['b', 'issued', '1035'],
    ['c', 'issued', '1000'],
  ]);
  return { ports, services };
}

const spec = (over: Partial<SimulationSpec> = {}): SimulationSpec => ({
  tenant: 'acme',
  periods: [PERIOD],
  customers: { all: true },
  changes: [{ plan: 'pro', patch: {} }],
  ...over,
});

describe('simulator (in-memory ports)', () => {
  it('under the unchanged plan, simulates exactly what was billed for every customer, and writes nothing to the ledger', async () => {
    const { ports, services } = await invoicedWorld();
    const before = { documents: ports.ledger.documents.length, inserts: ports.ledger.inserts };
    const unchanged = await services.simulator.run(spec());
    expect(
      unchanged.results.map((r) => [
        r.customer,
        r.status,
        r.billedMinor,
        r.simulatedMinor,
        r.differenceMinor,
      ]),
    ).toEqual([
      ['a', 'simulated', '1500', '1500', '0'],
      ['b', 'simulated', '1035', '1035', '0'],
      ['c', 'simulated', '1000', '1000', '0'],
    ]);
    expect(unchanged.totals).toEqual([
      { currency: 'USD', customers: 3, billedMinor: '3535', simulatedMinor: '3535', differenceMinor: '0' },
    ]);
    expect(unchanged.counts).toEqual({ scanned: 3, simulated: 3, usageChanged: 0, notInvoiced: 0 });
    // The same as a draft: the catalog's plan itself.
    const draft = await services.simulator.run(spec({ changes: [{ plan: 'pro', draft: PRO_PLAN as Plan }] }));
    expect(draft.results.map((r) => r.differenceMinor)).toEqual(['0', '0', '0']);
    expect(ports.ledger.documents.length).toBe(before.documents);
    expect(ports.ledger.inserts).toBe(before.inserts);
    expect(ports.notices.documents).toHaveLength(3);
  });

  it('prices a draft plan on the billed usage: per customer, per line and in total', async () => {
    const { services } = await invoicedWorld();
    const result = await services.simulator.run(
      spec({
        changes: [
          {
            plan: 'pro',
            patch: {
              charges: [
                {
                  id: 'calls',
                  name: 'API calls',
                  kind: 'per_unit',
                  meter: 'calls',
                  unitPrice: '0.10',
                  freeUnits: '5',
                },
                { id: 'seats', name: 'Seats', kind: 'per_unit', meter: 'seats', unitPrice: '2' },
              ],
              removeCharges: ['base'],
            },
          },
        ],
      }),
    );
    // a: 95 × 0.10 = 9.50; b: 2 × 0.10 + 3 seats × 2 = 6.20; c: nothing.
    expect(
      result.results.map((r) => [r.customer, r.billedMinor, r.simulatedMinor, r.differenceMinor, r.status]),
    ).toEqual([
      ['a', '1500', '950', '-550', 'simulated'],
      ['b', '1035', '620', '-415', 'simulated'],
      ['c', '1000', '0', '-1000', 'simulated'],
    ]);
    expect(
      result.results[1].lines.map((l) => [
        l.chargeId,
        l.quantityBilled,
        l.quantitySimulated,
        l.billedMinor,
        l.simulatedMinor,
      ]),
    ).toEqual([
      ['base', '1', '0', '1000', '0'],
      ['calls', '7', '7', '35', '20'],
      ['seats', '0', '3', '0', '600'],
    ]);
    expect(result.totals).toEqual([
      {
        currency: 'USD',
        customers: 3,
        billedMinor: '3535',
        simulatedMinor: '1570',
        differenceMinor: '-1965',
      },
    ]);
    const csv = simulationCsvHeader() + simulationCsvRows(result.results.slice(1, 2));
    expect(csv.split('\r\n')).toEqual([
      'customer,period,status,currency,row,subscription,charge_id,name,quantity_billed,quantity_simulated,billed,simulated,difference',
      'b,2026-10,simulated,USD,total,,,,,,10.35,6.20,-4.15',
      'b,2026-10,simulated,USD,line,s-b,base,Platform fee,1,0,10.00,0.00,-10.00',
      'b,2026-10,simulated,USD,line,s-b,calls,API calls,7,7,0.35,0.20,-0.15',
      'b,2026-10,simulated,USD,line,s-b,seats,Seats,0,3,0.00,6.00,6.00',
      '',
    ]);
  });

  it('flags customers whose events changed since their last document (a rebill pending) and counts listed customers without an invoice', async () => {
    const { ports, services } = await invoicedWorld();
    ports.usage.facts = [{ customer: 'a', series: 'calls', value: '120' }];
    ports.usage.fingerprintRows = [{ customer: 'a', event_count: '120', checksum: '8' }];
    const result = await services.simulator.run(spec({ customers: { ids: ['zz', 'a'] } }));
    expect(result.results).toEqual([
      expect.objectContaining({
        customer: 'a',
        status: 'usage_changed',
        billedMinor: '1500',
        simulatedMinor: '1600',
        fingerprint: {
          invoice: { eventCount: '100', checksum: '7' },
          priced: { eventCount: '120', checksum: '8' },
        },
      }),
    ]);
    expect(result.counts).toEqual({ scanned: 1, simulated: 1, usageChanged: 1, notInvoiced: 1 });
  });

  it('filters by zone or plan and pages through the customers', async () => {
    const { services } = await invoicedWorld();
    const tokyo = await services.simulator.run(
      spec({ customers: { filter: { timezone: 'Asia/Tokyo' } } }),
      1,
    );
    expect(tokyo.results.map((r) => r.customer)).toEqual(['b']);
    expect(tokyo.counts.scanned).toBe(3);
    const other = await services.simulator.run(spec({ customers: { filter: { plan: 'other' } } }));
    expect(other.results).toEqual([]);
    expect(await services.simulator.count(spec())).toBe(3);
  });

  it('refuses a bad request with every failing field at once', async () => {
    const { services } = await invoicedWorld();
    const error = await services.simulator
      .run({
        tenant: 'acme',
        periods: ['2026-13'],
        customers: { all: true },
        changes: [
          {
            plan: 'pro',
            draft: {
              id: 'pro',
              currency: 'USD',
              charges: [{ id: 'x', name: 'X', kind: 'per_unit', meter: 'calls', unitPrice: '-1' }],
            },
          },
          { plan: 'pro', patch: {} },
        ],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationFailedError);
    expect((error as ValidationFailedError).details.map((d) => [d.field, d.code])).toEqual([
      ['periods[0]', 'INVALID_PERIOD'],
      ['changes[0].draft.charges[0].unitPrice', expect.any(String)],
      ['changes[1].plan', 'DUPLICATE_PLAN'],
    ]);
    await expect(
      services.simulator.run(
        spec({
          changes: [
            {
              plan: 'pro',
              patch: { charges: [{ id: 'x', name: 'X', kind: 'per_unit', meter: 'nope', unitPrice: '1' }] },
            },
          ],
        }),
      ),
    ).rejects.toMatchObject({ code: 'UNKNOWN_METER' });
    await expect(
      services.simulator.run(
        spec({ changes: [{ plan: 'pro', draft: { ...(PRO_PLAN as Plan), currency: 'EUR' } }] }),
      ),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
