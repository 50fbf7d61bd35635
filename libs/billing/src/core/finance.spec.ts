/**
 * An invoice with finance terms, through the billing services on in-memory ports: a plan changed on
 * 11 October, a 20 % coupon, a prepaid grant that expires on 21 October and New York's 4 % tax. Every
 * figure is computed by hand below (docs/finance.md explains each step).
 */
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
import { createLogger } from '@tally/observability';
import { creditBalance } from '@tally/pricing';
import { creditEntriesOf } from '../invoices/finance';
import { createBillingServices } from './billing-services';
import { day, plan, world, issueOctober } from '../test-support/finance-example';

describe('an invoice with a plan change, a coupon, an expiring grant and a tax', () => {
  it('has the expected lines, discounts, draws and taxes, to the cent', async () => {
    const { services, ports } = world([
      {
        type: 'grant',
        id: 'g1',
        currency: 'USD',
        amountMinor: '2000',
        effective: '2026-10-01',
        expires: '2026-10-21',
      },
    ]);
    const [outcome] = await issueOctober(services);
    // Lines (31-day October): starter fee 3100 × 10/31 = 1000; starter calls 1,000 × 0.01 = 1000;
    //   pro fee 6200 × 21/31 = 4200; pro calls 4,000 × 0.005 = 2000. Subtotal 8200.
    // Coupon 20 % per line: 200 + 200 + 840 + 400 = 1640; left 6560.
    // Credit: g1 ($20) is usable until 21 October. Accrued by 21 October: starter 2000, pro fee 6200 × 10/31 = 2000,
    //   pro calls of 15 October 2,000 × 0.005 = 1000: 5000; after it 3200. The 6560 left splits 5000:3200 = 4000 + 2560;
    //   the first segment draws all of g1, 2000; nothing is usable after 21 October.
    // Credit over the lines in proportion to what is left (800, 800, 3360, 1600): 244, 244, 1024, 488.
    // Taxable 556, 556, 2336, 1112; NY 4 %: 22.24 → 22, 22, 93.44 → 93, 44.48 → 44 = 181.
    // Total 8200 − 1640 − 2000 + 181 = 4741.
    expect(outcome).toMatchObject({ status: 'issued', totalMinor: '4741' });
    const [doc] = ports.ledger.documents;
    const f = doc?.finance;
    expect(doc?.effectiveLines.map((l) => [l.subscription, l.plan, l.chargeId, l.amountMinor])).toEqual([
      ['s1', 'starter', 'base', '1000'],
      ['s1', 'starter', 'calls', '1000'],
      ['s2', 'pro', 'base', '4200'],
      ['s2', 'pro', 'calls', '2000'],
    ]);
    expect(
      f?.lines.map((l) => [
        l.lineId,
        l.discountMinor,
        l.creditMinor,
        l.taxableMinor,
        l.taxes[0]?.amountMinor,
        l.totalMinor,
      ]),
    ).toEqual([
      ['s1/base', '200', '244', '556', '22', '578'],
      ['s1/calls', '200', '244', '556', '22', '578'],
      ['s2/base', '840', '1024', '2336', '93', '2429'],
      ['s2/calls', '400', '488', '1112', '44', '1156'],
    ]);
    expect(f?.credits).toEqual([
      { bucketId: 'g1', grantId: 'g1', date: '2026-10-01', segmentTo: '2026-10-21', amountMinor: '2000' },
    ]);
    expect([f?.subtotalMinor, f?.discountMinor, f?.creditMinor, f?.taxExclusiveMinor, f?.totalMinor]).toEqual(
      ['8200', '1640', '2000', '181', '4741'],
    );
    expect(doc?.pricing.finance?.coupons.map((c) => [c.couponId, c.periodIndex])).toEqual([['launch', 0]]);
    // Issued again (a retried activity): the same invoice, reported, nothing drawn twice.
    const [again] = await issueOctober(services);
    expect(again).toMatchObject({ status: 'already_issued', totalMinor: '4741' });
    expect(ports.ledger.documents).toHaveLength(1);
  });

  it('a larger grant pays the first segment only: what accrued after its expiry is paid for', async () => {
    const { services, ports } = world([
      {
        type: 'grant',
        id: 'g1',
        currency: 'USD',
        amountMinor: '100000',
        effective: '2026-10-01',
        expires: '2026-10-21',
      },
    ]);
    await issueOctober(services);
    // Credit can only pay the first segment's 4000; the second segment's 2560 is owed (plus its tax).
    const f = ports.ledger.documents[0]?.finance;
    expect([f?.creditMinor, f?.taxableMinor]).toEqual(['4000', '2560']);
    // 4000 of credit over the lines left (800, 800, 3360, 1600): 488, 488, 2049, 975 (largest remainder);
    // taxable 312, 312, 1311, 625; 4 %: 12.48 → 12, 12, 52.44 → 52, 25 = 101. Total 2560 + 101 = 2661.
    expect(f?.lines.map((l) => l.creditMinor)).toEqual(['488', '488', '2049', '975']);
    expect([f?.taxExclusiveMinor, f?.totalMinor]).toEqual(['101', '2661']);
  });
});

describe('a backdated plan change', () => {
  it('re-bills the closed period through the adjustment path: one adjustment, then nothing', async () => {
    const t = (d: string) => Date.parse(`${d}T00:00:00Z`);
    const catalog = new InMemoryBillingCatalog().put(
      {
        tenant: parseEntity(
          tenantSchema,
          { id: 'acme', name: 'Acme', timezone: 'UTC', currency: 'USD' },
          'tenant',
        ),
      },
      {
        customer: parseEntity(
          customerSchema,
          { tenant: 'acme', id: 'c', createdAt: '2026-01-01T00:00:00Z' },
          'customer',
        ),
      },
      {
        meter: parseEntity(
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
        ),
      },
      { plan: plan('starter', '31', '0.01') },
      { plan: plan('pro', '62', '0.005') },
      {
        subscription: parseEntity(
          subscriptionSchema,
          { tenant: 'acme', id: 's1', customer: 'c', plan: 'starter', start: '2026-09-01' },
          'subscription',
        ),
      },
    );
    const usage = new InMemoryUsageSource(
      [
        // The whole of October (as first invoiced), and its two sides of 11 October (after the change).
        { customer: 'c', series: 'calls', fromMs: t('2026-10-01'), toMs: t('2026-11-01'), value: '5000' },
        { customer: 'c', series: 'calls', fromMs: t('2026-10-01'), toMs: t('2026-10-11'), value: '1000' },
        { customer: 'c', series: 'calls', fromMs: t('2026-10-11'), toMs: t('2026-11-01'), value: '4000' },
      ],
      [{ customer: 'c', event_count: '5000', checksum: '42' }],
    );
    const ports = {
      catalog,
      meterVersions: catalog,
      ledger: new InMemoryInvoiceLedger(),
      closed: new InMemoryClosedPeriods(),
      watermark: new SteppingWatermark(10, 10, 5),
      usage,
      notices: new RecordingNotices(),
      logger: createLogger('finance-spec', 'silent'),
      clock: () => Date.parse('2026-11-05T06:00:00Z'),
    };
    const services = createBillingServices(ports);
    const [issued] = await issueOctober(services);
    // October on starter: fee 3100 + 5,000 calls × $0.01 = 5000 → 8100.
    expect(issued).toMatchObject({ status: 'issued', totalMinor: '8100' });

    // On 5 November the customer's upgrade is entered, dated 11 October: starter ends, pro starts (same anchor).
    catalog.subscriptions.splice(0, 1);
    catalog.put(
      {
        subscription: parseEntity(
          subscriptionSchema,
          {
            tenant: 'acme',
            id: 's1',
            customer: 'c',
            plan: 'starter',
            start: '2026-09-01',
            end: '2026-10-11',
          },
          'subscription',
        ),
      },
      {
        subscription: parseEntity(
          subscriptionSchema,
          { tenant: 'acme', id: 's2', customer: 'c', plan: 'pro', start: '2026-10-11', billingAnchorDay: 1 },
          'subscription',
        ),
      },
    );
    const req = { tenant: 'acme', customer: 'c', period: '2026-10', owner: 'rebill/acme/c/2026-10' };
    const first = await services.rebiller.rebill(req);
    // Re-priced: starter fee 3100 × 10/31 = 1000, calls 1,000 × 0.01 = 1000; pro fee 6200 × 21/31 = 4200, calls
    // 4,000 × 0.005 = 2000: 8200, so the adjustment is +100: starter fee −2100, starter calls −4000, pro +4200 +2000.
    expect(first).toMatchObject({
      status: 'adjusted',
      version: 2,
      totalMinor: '100',
      cumulativeTotalMinor: '8200',
    });
    const adj = ports.ledger.documents[1];
    expect(adj?.kind).toBe('adjustment');
    expect(
      (adj?.lines as Array<{ subscription: string; chargeId: string; amountMinor: string }>).map((l) => [
        l.subscription,
        l.chargeId,
        l.amountMinor,
      ]),
    ).toEqual([
      ['s1', 'base', '-2100'],
      ['s1', 'calls', '-4000'],
      ['s2', 'base', '4200'],
      ['s2', 'calls', '2000'],
    ]);
    expect(adj?.pricing.subscriptions.map((s) => [s.subscription, s.start, s.end])).toEqual([
      ['s1', '2026-10-01', '2026-10-11'],
      ['s2', '2026-10-11', '2026-11-01'],
    ]);
    // The same change seen again (a repeated signal): nothing new.
    expect(await services.rebiller.rebill(req)).toMatchObject({ status: 'unchanged', latestVersion: 2 });
    expect(ports.ledger.documents).toHaveLength(2);

    // A downgrade entered afterwards (pro only from 21 October, on a cheaper plan) is a credit note.
    catalog.subscriptions.splice(0, 2);
    catalog.put(
      { plan: plan('lite', '31', '0.001') },
      {
        subscription: parseEntity(
          subscriptionSchema,
          { tenant: 'acme', id: 's1', customer: 'c', plan: 'lite', start: '2026-09-01' },
          'subscription',
        ),
      },
    );
    // Back to one subscription all month, on lite: fee 3100 + 5,000 × 0.001 = 500 → 3600; credit note 8200 − 3600.
    const third = await services.rebiller.rebill(req);
    expect(third).toMatchObject({
      status: 'adjusted',
      version: 3,
      totalMinor: '-4600',
      cumulativeTotalMinor: '3600',
    });
    expect(ports.ledger.documents[2]?.creditNoteNumber).toMatch(/^cn-2026-10-[0-9a-f]{16}-v3$/);
  });
});

describe('a plan change to a plan that carries tiers over', () => {
  it("prices the new plan's usage after the old plan's usage of the period", async () => {
    const graduated = (id: string, fee: string, free: string, unitPrice: string, carry: boolean) =>
      parseEntity(
        planSchema,
        {
          tenant: 'acme',
          id,
          name: id,
          currency: 'USD',
          ...(carry ? { segmentTiers: 'carry_over' } : {}),
          charges: [
            { id: 'base', name: `${id} fee`, kind: 'flat', amount: fee },
            {
              id: 'calls',
              name: 'API calls',
              kind: 'graduated',
              meter: 'calls',
              tiers: [
                { upTo: free, unitPrice: '0' },
                { upTo: null, unitPrice },
              ],
            },
          ],
        },
        'plan',
      );
    const catalog = new InMemoryBillingCatalog().put(
      {
        tenant: parseEntity(
          tenantSchema,
          { id: 'acme', name: 'Acme', timezone: 'UTC', currency: 'USD' },
          'tenant',
        ),
      },
      {
        customer: parseEntity(
          customerSchema,
          { tenant: 'acme', id: 'c', createdAt: '2026-01-01T00:00:00Z' },
          'customer',
        ),
      },
      {
        meter: parseEntity(
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
        ),
      },
      { plan: graduated('starter', '31', '2000', '0.01', false) },
      { plan: graduated('pro', '62', '3000', '0.005', true) },
      {
        subscription: parseEntity(
          subscriptionSchema,
          {
            tenant: 'acme',
            id: 's1',
            customer: 'c',
            plan: 'starter',
            start: '2026-09-01',
            end: '2026-10-11',
          },
          'subscription',
        ),
      },
      {
        subscription: parseEntity(
          subscriptionSchema,
          { tenant: 'acme', id: 's2', customer: 'c', plan: 'pro', start: '2026-10-11', billingAnchorDay: 1 },
          'subscription',
        ),
      },
    );
    const usage = new InMemoryUsageSource(
      [
        { customer: 'c', series: 'calls', fromMs: day('2026-10-01') * 1000, value: '1000' },
        { customer: 'c', series: 'calls', fromMs: day('2026-10-11') * 1000, value: '4000' },
      ],
      [{ customer: 'c', event_count: '5000', checksum: '1' }],
    );
    const ports = {
      catalog,
      meterVersions: catalog,
      ledger: new InMemoryInvoiceLedger(),
      closed: new InMemoryClosedPeriods(),
      watermark: new SteppingWatermark(10, 10, 5),
      usage,
      notices: new RecordingNotices(),
      logger: createLogger('finance-spec', 'silent'),
      clock: () => Date.parse('2026-11-01T06:00:00Z'),
    };
    const [outcome] = await issueOctober(createBillingServices(ports));
    // Starter 1-10 Oct: fee 1000; 1,000 calls, all within its 2,000 free. Pro 11-31 Oct: fee 4200; its 3,000 free
    // calls count from 1 October (carry_over): price(5,000) − price(1,000) = 2,000 × $0.005 − 0 = $10.00
    // (reset would give (4,000 − 3,000) × 0.005 = $5.00). Total 1000 + 0 + 4200 + 1000 = 6200.
    expect(outcome).toMatchObject({ status: 'issued', totalMinor: '6200' });
    const calls = ports.ledger.documents[0]?.effectiveLines.find(
      (l) => l.subscription === 's2' && l.chargeId === 'calls',
    );
    expect([calls?.quantity, calls?.amountMinor, calls?.carriedOver]).toEqual(['4000', '1000', '1000']);
  });
});

describe('commitments', () => {
  function commitmentWorld(commitments: unknown[]) {
    const catalog = new InMemoryBillingCatalog().put(
      {
        tenant: parseEntity(
          tenantSchema,
          { id: 'acme', name: 'Acme', timezone: 'UTC', currency: 'USD' },
          'tenant',
        ),
      },
      {
        customer: parseEntity(
          customerSchema,
          { tenant: 'acme', id: 'c', createdAt: '2026-01-01T00:00:00Z', billing: { commitments } },
          'customer',
        ),
      },
      {
        meter: parseEntity(
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
        ),
      },
      { plan: plan('pro', '200', '0.01') },
      {
        subscription: parseEntity(
          subscriptionSchema,
          { tenant: 'acme', id: 's1', customer: 'c', plan: 'pro', start: '2026-08-01' },
          'subscription',
        ),
      },
    );
    const ports = {
      catalog,
      meterVersions: catalog,
      ledger: new InMemoryInvoiceLedger(),
      closed: new InMemoryClosedPeriods(),
      watermark: new SteppingWatermark(10, 10, 5),
      usage: new InMemoryUsageSource([], []),
      notices: new RecordingNotices(),
      logger: createLogger('finance-spec', 'silent'),
      clock: () => Date.parse('2026-11-01T06:00:00Z'),
    };
    return { ports, services: createBillingServices(ports) };
  }

  async function issue(services: ReturnType<typeof commitmentWorld>['services'], period: string) {
    const owner = `invoice/acme/c/${period}`;
    const close = await services.closer.closePeriods(
      { tenant: 'acme', owner, periods: [{ customer: 'c', period }] },
      undefined,
      0,
    );
    const periods = close.outcomes.flatMap((o) =>
      o.status === 'claimed' ? [{ customer: o.customer, share: o.share }] : [],
    );
    return (await services.issuer.issueInvoices({ tenant: 'acme', owner, periods }))[0];
  }

  it('postpaid: the last invoice of the term adds max(0, commitment − what the term spent)', async () => {
    // $1,000 over August-October; each month costs the $200 fee (no usage): spent 200 × 3 = $600, true-up $400 on October.
    const { services, ports } = commitmentWorld([
      {
        id: 'q3',
        kind: 'postpaid',
        currency: 'USD',
        amountMinor: '100000',
        start: '2026-08-01',
        end: '2026-11-01',
      },
    ]);
    expect(await issue(services, '2026-08')).toMatchObject({ status: 'issued', totalMinor: '20000' });
    expect(await issue(services, '2026-09')).toMatchObject({ status: 'issued', totalMinor: '20000' });
    expect(await issue(services, '2026-10')).toMatchObject({ status: 'issued', totalMinor: '60000' });
    const october = ports.ledger.documents[2];
    expect(october?.effectiveLines.at(-1)).toMatchObject({
      kind: 'commitment_true_up',
      chargeId: 'commitment:q3',
      amountMinor: '40000',
    });
  });

  it('prepaid: the commitment is credit drawn before anything else, over its term', async () => {
    // $500 prepaid for August-September: August's $200 and September's $200 are paid from it; $100 expires on 1 October.
    const { services } = commitmentWorld([
      {
        id: 'pre',
        kind: 'prepaid',
        currency: 'USD',
        amountMinor: '50000',
        start: '2026-08-01',
        end: '2026-10-01',
      },
    ]);
    expect(await issue(services, '2026-08')).toMatchObject({ status: 'issued', totalMinor: '0' });
    expect(await issue(services, '2026-09')).toMatchObject({ status: 'issued', totalMinor: '0' });
    expect(await issue(services, '2026-10')).toMatchObject({ status: 'issued', totalMinor: '20000' });
  });
});

describe('credit and a downward correction', () => {
  it('an adjustment that owes less than the credit drawn trims its draws: the rest is back in the balance', async () => {
    const { services, ports } = world([
      { type: 'grant', id: 'g1', currency: 'USD', amountMinor: '100000', effective: '2026-10-01' },
    ]);
    // October as in the first example, with a grant that never expires: the whole 6560 after the coupon is drawn.
    const [issued] = await issueOctober(services);
    expect(issued).toMatchObject({ status: 'issued', totalMinor: '0' });
    expect(ports.ledger.documents[0]?.finance?.creditMinor).toBe('6560');
    // Pro is removed after the fact (backdated): October is starter's 10 days only: 1000 + 1000, 20 % off → 1600.
    const s2 = ports.catalog.subscriptions.findIndex((s) => s.id === 's2');
    ports.catalog.subscriptions.splice(s2, 1);
    const adjusted = await services.rebiller.rebill({
      tenant: 'acme',
      customer: 'c',
      period: '2026-10',
      owner: 'r',
    });
    expect(adjusted).toMatchObject({ status: 'adjusted', totalMinor: '0', cumulativeTotalMinor: '0' });
    const adj = ports.ledger.documents[1];
    expect(adj?.finance?.credits.map((d) => d.amountMinor)).toEqual(['1600']);
    // The ledger now counts 1600 drawn for October: 100000 − 1600 = 98400 left.
    const entries = creditEntriesOf(ports.catalog.getCustomer('acme', 'c'), ports.ledger.documents);
    expect(creditBalance(entries, 'USD', '2026-11-01').balanceMinor).toBe('98400');
  });
});
