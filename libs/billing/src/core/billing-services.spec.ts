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
import { InvoiceNotYetIssuedError } from '../errors';
import { createBillingServices } from './billing-services';

const NOW = Date.parse('2026-11-01T06:00:00Z');
const OWNER = 'invoice/acme/a/2026-10';

function world() {
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
      customer: parseEntity(
        customerSchema,
        { tenant: 'acme', id: 'b', timezone: 'Asia/Tokyo', createdAt: '2026-01-01T00:00:00Z' },
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
    {
      plan: parseEntity(
        planSchema,
        {
          tenant: 'acme',
          id: 'pro',
          name: 'Pro',
          currency: 'USD',
          charges: [
            { id: 'base', name: 'Platform fee', kind: 'flat', amount: '10' },
            { id: 'calls', name: 'API calls', kind: 'per_unit', meter: 'calls', unitPrice: '0.05' },
          ],
        },
        'plan',
      ),
    },
    {
      subscription: parseEntity(
        subscriptionSchema,
        { tenant: 'acme', id: 's-a', customer: 'a', plan: 'pro', start: '2026-01-01' },
        'subscription',
      ),
    },
    {
      subscription: parseEntity(
        subscriptionSchema,
        { tenant: 'acme', id: 's-b', customer: 'b', plan: 'gone', start: '2026-01-01' },
        'subscription',
      ),
    },
  );
  const ports = {
    catalog,
    meterVersions: catalog,
    ledger: new InMemoryInvoiceLedger(),
    closed: new InMemoryClosedPeriods(),
    watermark: new SteppingWatermark(10, 0, 5),
    usage: new InMemoryUsageSource(
      [{ customer: 'a', series: 'calls', value: '100' }],
      [{ customer: 'a', event_count: '100', checksum: '7' }],
    ),
    notices: new RecordingNotices(),
    logger: createLogger('billing-spec', 'silent'),
    clock: () => NOW,
  };
  return { ports, services: createBillingServices(ports) };
}

describe('billing services on in-memory ports', () => {
  it('due periods: customers whose period ended in the window, in their own zone, not yet closed', async () => {
    const { services, ports } = world();
    const page = await services.due.dueCustomers({ tenant: 'acme', atMs: NOW, lookbackHours: 48, limit: 10 });
    expect(page.due.map((d) => [d.customer, d.period])).toEqual([
      ['a', '2026-10'],
      ['b', '2026-10'],
    ]);
    expect(page.scanned).toBe(2);
    expect(page.next).toBeUndefined();
    await ports.closed.claim({
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
    const paged = await services.due.dueCustomers({ tenant: 'acme', atMs: NOW, lookbackHours: 48, limit: 1 });
    expect(paged).toEqual({ due: [], scanned: 1, next: 'a' });
  });

  it('period closer: claims once per owner, reports the other owner, waits for the watermark', async () => {
    const { services, ports } = world();
    const beats: number[] = [];
    const first = await services.closer.closePeriods(
      {
        tenant: 'acme',
        owner: OWNER,
        periods: [
          { customer: 'a', period: '2026-10' },
          { customer: 'zz', period: '2026-10' },
        ],
      },
      (s) => beats.push(s.ackFloor),
      0,
    );
    expect(first.outcomes.map((o) => o.status)).toEqual(['claimed', 'no_subscription']);
    expect(first.watermark).toEqual({ target: 10, ackFloor: 10, reached: true });
    expect(beats).toEqual([0, 5, 10]);
    const again = await services.closer.closePeriods(
      { tenant: 'acme', owner: OWNER, periods: [{ customer: 'a', period: '2026-10' }] },
      undefined,
      0,
    );
    expect(again.outcomes[0]?.status).toBe('claimed');
    const other = await services.closer.closePeriods(
      { tenant: 'acme', owner: 'someone-else', periods: [{ customer: 'a', period: '2026-10' }] },
      undefined,
      0,
    );
    expect(other.outcomes[0]).toMatchObject({ status: 'taken', owner: OWNER, state: 'closing' });
    expect(ports.closed.markers.size).toBe(1);
  });

  it('invoice issuer: issues once, reports it as already issued after, releases a refused period', async () => {
    const { services, ports } = world();
    const close = await services.closer.closePeriods(
      {
        tenant: 'acme',
        owner: OWNER,
        periods: [
          { customer: 'a', period: '2026-10' },
          { customer: 'b', period: '2026-10' },
        ],
      },
      undefined,
      0,
    );
    const periods = close.outcomes.flatMap((o) =>
      o.status === 'claimed' ? [{ customer: o.customer, share: o.share }] : [],
    );
    const issued = await services.issuer.issueInvoices({ tenant: 'acme', owner: OWNER, periods });
    // 10 USD base + 100 calls × 0.05 = 15 USD.
    expect(issued).toEqual([
      expect.objectContaining({ customer: 'a', status: 'issued', totalMinor: '1500', currency: 'USD' }),
      expect.objectContaining({ customer: 'b', status: 'failed', code: 'UNKNOWN_PLAN' }),
    ]);
    expect(ports.ledger.documents).toHaveLength(1);
    // The invoice records the completeness watermark its usage was read at.
    expect(ports.ledger.documents[0]?.completeThrough).toBe('2030-01-01T00:00:00.000Z');
    expect(ports.notices.documents.map((d) => d.customer)).toEqual(['a']);
    expect((await ports.closed.get('acme', 'a', '2026-10'))?.state).toBe('invoiced');
    expect(await ports.closed.get('acme', 'b', '2026-10')).toBeUndefined();
    // One usage query and one fingerprint query for the customer that was priced.
    expect(ports.usage.usageQueries.map((q) => q.customers)).toEqual([['a']]);

    const retried = await services.issuer.issueInvoices({
      tenant: 'acme',
      owner: OWNER,
      periods: periods.slice(0, 1),
    });
    expect(retried).toEqual([
      expect.objectContaining({ customer: 'a', status: 'already_issued', totalMinor: '1500' }),
    ]);
    expect(ports.ledger.documents).toHaveLength(1);
  });

  it('rebiller: retryable until the invoice exists, unchanged for the same events, one adjustment for new ones', async () => {
    const { services, ports } = world();
    const req = { tenant: 'acme', customer: 'a', period: '2026-10', owner: 'rebill/acme/a/2026-10' };
    const notYet = await services.rebiller.rebill(req).catch((e: unknown) => e);
    expect(notYet).toBeInstanceOf(InvoiceNotYetIssuedError);
    expect((notYet as InvoiceNotYetIssuedError).retryable).toBe(true);

    const close = await services.closer.closePeriods(
      { tenant: 'acme', owner: OWNER, periods: [{ customer: 'a', period: '2026-10' }] },
      undefined,
      0,
    );
    const claimed = close.outcomes.flatMap((o) =>
      o.status === 'claimed' ? [{ customer: o.customer, share: o.share }] : [],
    );
    await services.issuer.issueInvoices({ tenant: 'acme', owner: OWNER, periods: claimed });
    expect(await services.rebiller.rebill(req)).toEqual({
      status: 'unchanged',
      latestVersion: 1,
      eventCount: '100',
    });

    ports.watermark.watermarkMs = Date.parse('2030-01-02T00:00:00Z');
    ports.usage.facts = [{ customer: 'a', series: 'calls', value: '120' }];
    ports.usage.fingerprintRows = [{ customer: 'a', event_count: '120', checksum: '9' }];
    expect(await services.rebiller.rebill(req)).toMatchObject({
      status: 'adjusted',
      version: 2,
      totalMinor: '100',
      lateEventCount: 20,
    });
    expect(await services.rebiller.rebill(req)).toEqual({
      status: 'unchanged',
      latestVersion: 2,
      eventCount: '120',
    });
    expect(ports.ledger.documents.map((d) => d.version)).toEqual([1, 2]);
    // The adjustment has its own watermark, not the invoice's.
    expect(ports.ledger.documents.map((d) => d.completeThrough)).toEqual([
      '2030-01-01T00:00:00.000Z',
      '2030-01-02T00:00:00.000Z',
    ]);
  });

  it('rebiller: late events stored between the usage and the fingerprint reads are billed, never lost', async () => {
    // Found investigating "an adjustment of 0 with lateEventCount 3" in the late-events test: ClickHouse
    // has no snapshot across two queries, so events inserted between the usage read and the fingerprint
    // read were counted by the fingerprint and not by the amounts; the next rebill (their notice's) then
    // saw the same fingerprint and changed nothing: under-billing for good.
    const { services, ports } = world();
    const req = { tenant: 'acme', customer: 'a', period: '2026-10', owner: 'rebill/acme/a/2026-10' };
    const close = await services.closer.closePeriods(
      { tenant: 'acme', owner: OWNER, periods: [{ customer: 'a', period: '2026-10' }] },
      undefined,
      0,
    );
    const claimed = close.outcomes.flatMap((o) =>
      o.status === 'claimed' ? [{ customer: o.customer, share: o.share }] : [],
    );
    await services.issuer.issueInvoices({ tenant: 'acme', owner: OWNER, periods: claimed });

    // 20 late calls: the first 10 are stored before the rebill reads, the other 10 while it reads.
    ports.usage.facts = [{ customer: 'a', series: 'calls', value: '110' }];
    ports.usage.fingerprintRows = [{ customer: 'a', event_count: '110', checksum: '8' }];
    ports.usage.betweenQueries = () => {
      ports.usage.facts = [{ customer: 'a', series: 'calls', value: '120' }];
      ports.usage.fingerprintRows = [{ customer: 'a', event_count: '120', checksum: '9' }];
    };
    await services.rebiller.rebill(req);
    // The notice of the second 10 comes after their insert: the rebill it starts finds the rest.
    await services.rebiller.rebill(req);

    const docs = ports.ledger.documents;
    const latest = docs.reduce((a, b) => (b.version > a.version ? b : a));
    // 10 USD base + 120 calls × 0.05 = 16 USD, with a fingerprint of the 120 events.
    expect(latest.cumulativeTotalMinor).toBe('1600');
    expect(latest.fingerprint.eventCount).toBe('120');
    // Every document bills at least the events its fingerprint counts.
    for (const d of docs) {
      const calls = (d.effectiveLines as Array<{ chargeId: string; quantity: string }>).find((l) => l.chargeId === 'calls');
      expect(Number(calls?.quantity ?? 0)).toBeGreaterThanOrEqual(Number(d.fingerprint.eventCount));
    }
  });
});
