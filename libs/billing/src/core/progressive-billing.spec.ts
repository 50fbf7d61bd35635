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
import type { InvoiceDocument, InvoiceLine } from '../invoices/invoice';
import { createBillingServices } from './billing-services';

const MID_OCTOBER = Date.parse('2026-10-15T12:00:00Z');
const AFTER_OCTOBER = Date.parse('2026-11-01T06:00:00Z');
const OWNER = 'progressive/acme/a/2026-10';

/**
 * One customer on a metered plan: 10 USD a month plus 0.01 USD per call; with `progressive`, an interim
 * invoice every 25.00 USD accrued (the flat fee counts from the first day).
 */
function world(progressive: boolean) {
  let now = MID_OCTOBER;
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
        { tenant: 'acme', id: 'a', createdAt: '2026-01-01T00:00:00Z' },
        'customer',
      ),
    },
    {
      meter: parseEntity(
        meterSchema,
        {
          tenant: 'acme',
          key: 'calls',
          name: 'Calls',
          eventTypes: ['call'],
          aggregation: 'count',
          version: 1,
        },
        'meter',
      ),
    },
    {
      plan: parseEntity(
        planSchema,
        {
          tenant: 'acme',
          id: 'metered',
          name: 'Metered',
          currency: 'USD',
          ...(progressive ? { progressiveBilling: { repeatEvery: '25.00' } } : {}),
          charges: [
            { id: 'base', name: 'Platform fee', kind: 'flat', amount: '10' },
            { id: 'calls', name: 'Calls', kind: 'per_unit', meter: 'calls', unitPrice: '0.01' },
          ],
        },
        'plan',
      ),
    },
    {
      subscription: parseEntity(
        subscriptionSchema,
        { tenant: 'acme', id: 's-a', customer: 'a', plan: 'metered', start: '2026-01-01' },
        'subscription',
      ),
    },
  );
  const usage = new InMemoryUsageSource();
  const ports = {
    catalog,
    meterVersions: catalog,
    ledger: new InMemoryInvoiceLedger(),
    closed: new InMemoryClosedPeriods(),
    watermark: new SteppingWatermark(10, 10, 5),
    usage,
    notices: new RecordingNotices(),
    logger: createLogger('progressive-spec', 'silent'),
    clock: () => now,
  };
  /** The customer's October so far: `calls` events (the fingerprint changes with every count). */
  const calls = (n: number) => {
    usage.facts = [{ customer: 'a', series: 'calls', value: String(n) }];
    usage.fingerprintRows = [{ customer: 'a', event_count: String(n), checksum: String(n * 7) }];
  };
  const services = createBillingServices(ports);
  const closeAndIssue = async () => {
    const owner = 'invoice/acme/a/2026-10';
    const close = await services.closer.closePeriods(
      { tenant: 'acme', owner, periods: [{ customer: 'a', period: '2026-10' }] },
      undefined,
      0,
    );
    const periods = close.outcomes.flatMap((o) =>
      o.status === 'claimed' ? [{ customer: o.customer, share: o.share }] : [],
    );
    return services.issuer.issueInvoices({ tenant: 'acme', owner, periods });
  };
  return {
    ports,
    services,
    calls,
    closeAndIssue,
    at: (ms: number) => (now = ms),
    issue: () =>
      services.progressive.issueInterim({ tenant: 'acme', customer: 'a', period: '2026-10', owner: OWNER }),
  };
}

const byKind = (docs: readonly InvoiceDocument[], kind: InvoiceDocument['kind']) =>
  docs.filter((d) => d.kind === kind);

describe('progressive billing on in-memory ports', () => {
  it('issues one interim invoice per crossing, deducts them at period end, and re-bills a late event once', async () => {
    const w = world(true);
    // 10.00 + 14.99 = 24.99 accrued: below 25.00.
    w.calls(1499);
    expect(await w.services.progressive.crossings('acme')).toEqual([]);
    expect(await w.issue()).toEqual({
      status: 'below_threshold',
      thresholdsCrossed: '0',
      accruedMinor: '2499',
    });

    // 25.00 reached: the monitor sees it, the activity issues it, a repeat issues nothing.
    w.calls(1500);
    expect(await w.services.progressive.crossings('acme')).toEqual([
      {
        tenant: 'acme',
        customer: 'a',
        period: '2026-10',
        fromMs: Date.UTC(2026, 9, 1),
        toMs: Date.UTC(2026, 10, 1),
        timezone: 'UTC',
        thresholdsCrossed: '1',
        accruedMinor: '2500',
        currency: 'USD',
      },
    ]);
    const first = await w.issue();
    expect(first).toMatchObject({
      status: 'issued',
      thresholdsCrossed: '1',
      totalMinor: '2500',
      accruedMinor: '2500',
    });
    expect(await w.issue()).toEqual({
      status: 'below_threshold',
      thresholdsCrossed: '1',
      accruedMinor: '2500',
    });
    expect(await w.services.progressive.crossings('acme')).toEqual([]);

    // 80.01 accrued: 75.00 reached (three thresholds), one interim invoice for the rest since the first.
    w.calls(7001);
    const second = await w.issue();
    expect(second).toMatchObject({
      status: 'issued',
      thresholdsCrossed: '3',
      totalMinor: '5501',
      accruedMinor: '8001',
    });
    const interims = byKind(w.ports.ledger.documents, 'interim');
    expect(
      interims.map((d) => [
        d.invoiceId.replace(/-[0-9a-f]{16}-/, '-…-'),
        d.version,
        d.totalMinor,
        d.cumulativeTotalMinor,
      ]),
    ).toEqual([
      ['int-2026-10-…-t1', 0, '2500', '2500'],
      ['int-2026-10-…-t3', 0, '5501', '8001'],
    ]);
    const secondLines = interims[1]?.lines as InvoiceLine[];
    expect(secondLines.map((l) => [l.kind, l.amountMinor])).toEqual([
      ['flat', '1000'],
      ['per_unit', '7001'],
      ['interim_deduction', '-2500'],
    ]);
    expect(interims[1]?.interim).toEqual({
      thresholdsCrossed: '3',
      thresholdMinor: '7500',
      accruedMinor: '8001',
      previouslyBilledMinor: '2500',
    });

    // A worker killed after the insert: the retried activity finds the invoice and issues nothing.
    expect((await w.issue()).status).toBe('below_threshold');
    expect(byKind(w.ports.ledger.documents, 'interim')).toHaveLength(2);

    // The period ends with 9,000 calls (100.00 accrued): too late for an interim invoice.
    w.calls(9000);
    w.at(AFTER_OCTOBER);
    expect(await w.issue()).toEqual({ status: 'period_ended' });
    // (The in-memory usage has no dates: November, now open, sees the same calls; October is not scanned.)
    expect((await w.services.progressive.crossings('acme')).map((c) => c.period)).toEqual(['2026-11']);
    const [final] = await w.closeAndIssue();
    expect(final).toMatchObject({ status: 'issued', totalMinor: '1999' });
    const invoice = byKind(w.ports.ledger.documents, 'invoice')[0] as InvoiceDocument;
    expect((invoice.lines as InvoiceLine[]).map((l) => [l.kind, l.amountMinor])).toEqual([
      ['flat', '1000'],
      ['per_unit', '9000'],
      ['interim_deduction', '-2500'],
      ['interim_deduction', '-5501'],
    ]);
    expect((invoice.lines as InvoiceLine[])[2]?.name).toMatch(
      /^Billed on interim invoice int-2026-10-[0-9a-f]{16}-t1 \(2026-10-15, threshold 25\.00 USD\)$/,
    );
    expect(invoice.cumulativeTotalMinor).toBe('10000');

    // The same usage without progressive billing: one invoice of the same total.
    const plain = world(false);
    plain.calls(9000);
    plain.at(AFTER_OCTOBER);
    const [whole] = await plain.closeAndIssue();
    const billed = [...interims, invoice].reduce((s, d) => s + BigInt(d.totalMinor), 0n);
    expect(whole).toMatchObject({ status: 'issued', totalMinor: billed.toString() });

    // A late event after the final invoice: one adjustment of 0.01, whatever the repeats.
    w.calls(9001);
    const adjusted = await w.services.rebiller.rebill({
      tenant: 'acme',
      customer: 'a',
      period: '2026-10',
      owner: 'rebill',
    });
    expect(adjusted).toMatchObject({
      status: 'adjusted',
      version: 2,
      totalMinor: '1',
      cumulativeTotalMinor: '10001',
      lateEventCount: 1,
    });
    expect(
      (
        await w.services.rebiller.rebill({
          tenant: 'acme',
          customer: 'a',
          period: '2026-10',
          owner: 'rebill',
        })
      ).status,
    ).toBe('unchanged');
    expect(byKind(w.ports.ledger.documents, 'adjustment')).toHaveLength(1);
    expect((await w.issue()).status).toBe('period_ended');
  });

  it('issues nothing for a plan without the setting, or once the period is being closed', async () => {
    const plain = world(false);
    plain.calls(100_000);
    expect(await plain.services.progressive.crossings('acme')).toEqual([]);
    expect(await plain.issue()).toEqual({ status: 'not_progressive' });

    const w = world(true);
    w.calls(100_000);
    await w.ports.closed.claim({
      tenant: 'acme',
      customer: 'a',
      period: '2026-10',
      fromMs: 0,
      toMs: 1,
      invoiceId: 'x',
      owner: 'o',
      state: 'closing',
      closedAt: '',
    });
    expect(await w.issue()).toEqual({ status: 'period_ended' });
    expect(w.ports.ledger.documents).toEqual([]);
  });
});
