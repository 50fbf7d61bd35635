/**
 * The finance example of docs/finance.md on in-memory ports: a plan changed on 11 October, a 20 %
 * coupon, a prepaid grant (given by the caller) and New York's 4 % tax. Shared by the invoice spec,
 * which checks every figure by hand, and the simulation spec, which re-prices the same invoice.
 */
import {
  customerSchema,
  meterSchema,
  parseEntity,
  planSchema,
  subscriptionSchema,
  tenantSchema,
} from '@tally/catalog';
import { createLogger } from '@tally/observability';
import { createBillingServices } from '../core/billing-services';
import {
  InMemoryBillingCatalog,
  InMemoryClosedPeriods,
  InMemoryInvoiceLedger,
  InMemoryUsageSource,
  RecordingNotices,
  SteppingWatermark,
} from '../testing';

export const day = (d: string) => Date.parse(`${d}T00:00:00Z`) / 1000;
export const plan = (id: string, fee: string, unitPrice: string) =>
  parseEntity(
    planSchema,
    {
      tenant: 'acme',
      id,
      name: id,
      currency: 'USD',
      charges: [
        { id: 'base', name: `${id} fee`, kind: 'flat', amount: fee },
        { id: 'calls', name: 'API calls', kind: 'per_unit', meter: 'calls', unitPrice },
      ],
    },
    'plan',
  );

/** Acme: UTC, USD, New York's 4 % sales tax (exclusive) and a 20 % launch coupon for three periods. */
function acme() {
  return parseEntity(
    tenantSchema,
    {
      id: 'acme',
      name: 'Acme',
      timezone: 'UTC',
      currency: 'USD',
      taxRates: [
        { id: 'ny', name: 'NY sales tax 4 %', jurisdiction: 'US-NY', percent: '4', inclusive: false },
      ],
      coupons: [
        {
          id: 'launch',
          name: 'Launch 20 %',
          kind: 'percentage',
          percent: '20',
          duration: 'repeating',
          periods: 3,
        },
      ],
    },
    'tenant',
  );
}

/** Customer c, taxed in New York, on the launch coupon from October, with the caller's credit grants. */
function customerC(credits: unknown[]) {
  return parseEntity(
    customerSchema,
    {
      tenant: 'acme',
      id: 'c',
      createdAt: '2026-01-01T00:00:00Z',
      billing: {
        tax: { jurisdiction: 'US-NY' },
        coupons: [{ coupon: 'launch', firstPeriod: '2026-10' }],
        credits,
      },
    },
    'customer',
  );
}

function callsMeter() {
  return parseEntity(
    meterSchema,
    {
      tenant: 'acme',
      key: 'calls',
      name: 'API calls',
      eventTypes: ['call'],
      aggregation: 'count',
      version: 1,
    },
    'meter',
  );
}

/** c's plan change on 11 October: starter until then, pro from then. */
function planChange() {
  return [
    parseEntity(
      subscriptionSchema,
      { tenant: 'acme', id: 's1', customer: 'c', plan: 'starter', start: '2026-09-01', end: '2026-10-11' },
      'subscription',
    ),
    parseEntity(
      subscriptionSchema,
      // A plan change: the new subscription starts the day the old one ends, on the old one's anchor day.
      { tenant: 'acme', id: 's2', customer: 'c', plan: 'pro', start: '2026-10-11', billingAnchorDay: 1 },
      'subscription',
    ),
  ];
}

/** c's calls in October, per subscription share and per day. */
function octoberUsage() {
  return new InMemoryUsageSource(
    [
      // Starter's share (1-10 October): 1,000 calls on 5 October.
      { customer: 'c', series: 'calls', fromMs: day('2026-10-01') * 1000, value: '1000' },
      { customer: 'c', series: 'calls', dayStart: day('2026-10-05'), value: '1000' },
      // Pro's share (11-31 October): 2,000 calls on 15 October and 2,000 on 25 October.
      { customer: 'c', series: 'calls', fromMs: day('2026-10-11') * 1000, value: '4000' },
      { customer: 'c', series: 'calls', dayStart: day('2026-10-15'), value: '2000' },
      { customer: 'c', series: 'calls', dayStart: day('2026-10-25'), value: '2000' },
    ],
    [{ customer: 'c', event_count: '5000', checksum: '42' }],
  );
}

export function world(credits: unknown[]) {
  const catalog = new InMemoryBillingCatalog().put(
    { tenant: acme() },
    { customer: customerC(credits) },
    { meter: callsMeter() },
    { plan: plan('starter', '31', '0.01') },
    { plan: plan('pro', '62', '0.005') },
    ...planChange().map((subscription) => ({ subscription })),
  );
  const ports = {
    catalog,
    meterVersions: catalog,
    ledger: new InMemoryInvoiceLedger(),
    closed: new InMemoryClosedPeriods(),
    watermark: new SteppingWatermark(10, 10, 5),
    usage: octoberUsage(),
    notices: new RecordingNotices(),
    logger: createLogger('finance-spec', 'silent'),
    clock: () => Date.parse('2026-11-01T06:00:00Z'),
  };
  return { ports, services: createBillingServices(ports) };
}

export async function issueOctober(services: ReturnType<typeof world>['services']) {
  const owner = 'invoice/acme/c/2026-10';
  const close = await services.closer.closePeriods(
    { tenant: 'acme', owner, periods: [{ customer: 'c', period: '2026-10' }] },
    undefined,
    0,
  );
  const periods = close.outcomes.flatMap((o) =>
    o.status === 'claimed' ? [{ customer: o.customer, share: o.share }] : [],
  );
  return services.issuer.issueInvoices({ tenant: 'acme', owner, periods });
}
