/**
 * Unit grants on an invoice, through the billing services on in-memory ports (the finance example of
 * docs/finance.md: starter $31 + $0.01 a call until 11 October, then pro $62 + $0.005 a call; 20 %
 * coupon; New York 4 %), with a grant of 1,500 calls instead of money credit. Figures by hand below.
 */
import { unitGrantBalance } from '@tally/pricing';
import { issueOctober, world } from '../test-support/finance-example';
import { unitLedgerOf } from './unit-credits';

const calls1500 = { type: 'unit_grant', id: 'calls', meter: 'calls', units: '1500', effective: '2026-10-01' };

describe('an invoice draws unit grants before pricing', () => {
  it('takes the granted calls off the earliest usage, then prices the rest; coupon and tax on what is left', async () => {
    const { services, ports } = world([calls1500]);
    const [issued] = await issueOctober(services);
    // Starter (1-10 Oct): the 1,000 calls of 5 October are granted → calls 0.
    // Pro (11-31 Oct): 500 of the 2,000 calls of 15 October are granted; 1,500 + 2,000 of 25 October
    // = 3,500 × $0.005 = 1750.
    // Lines: starter fee 3100 × 10/31 = 1000, starter calls 0, pro fee 6200 × 21/31 = 4200, pro calls 1750 = 6950.
    // Coupon 20 %: 200 + 0 + 840 + 350 = 1390 → 5560. Tax 4 %: 32 + 0 + 134 (134.4) + 56 = 222. Total 5782.
    expect(issued).toMatchObject({ status: 'issued', totalMinor: '5782' });
    const doc = ports.ledger.documents[0];
    expect(
      doc?.effectiveLines
        .filter((l) => l.chargeId === 'calls')
        .map((l) => [l.subscription, l.quantity, l.grantedUnits, l.billableQuantity, l.amountMinor]),
    ).toEqual([
      ['s1', '1000', '1000', '0', '0'],
      ['s2', '4000', '500', '3500', '1750'],
    ]);
    expect([doc?.finance?.subtotalMinor, doc?.finance?.discountMinor, doc?.finance?.creditMinor]).toEqual([
      '6950',
      '1390',
      '0',
    ]);
    expect(doc?.finance?.taxExclusiveMinor).toBe('222');
    expect(doc?.finance?.unitCredits).toEqual([
      {
        id: `${doc?.invoiceId}/unit/calls`,
        grantId: 'calls',
        meter: 'calls',
        date: '2026-10-05',
        units: '1500',
        invoiceId: doc?.invoiceId,
      },
    ]);
    const ledger = unitLedgerOf(ports.catalog.getCustomer('acme', 'c'), ports.ledger.documents);
    expect(unitGrantBalance(ledger.grants, ledger.draws, 'calls', '2026-11-01')).toMatchObject({
      grantedUnits: '1500',
      drawnUnits: '1500',
      balanceUnits: '0',
    });
  });

  it('an adjustment that needs fewer granted units trims its draw: the rest is back in the balance', async () => {
    const { services, ports } = world([calls1500]);
    await issueOctober(services);
    // Pro is removed after the fact: October is starter's 10 days, 1,000 calls, all granted: the kept
    // draw is 1,000 of the 1,500; 1000 (fee) − 200 (20 %) + 32 (4 %) = 832 owed for the period.
    const s2 = ports.catalog.subscriptions.findIndex((s) => s.id === 's2');
    ports.catalog.subscriptions.splice(s2, 1);
    const adjusted = await services.rebiller.rebill({
      tenant: 'acme',
      customer: 'c',
      period: '2026-10',
      owner: 'r',
    });
    expect(adjusted).toMatchObject({ status: 'adjusted', cumulativeTotalMinor: '832' });
    const adj = ports.ledger.documents[1];
    expect(adj?.finance?.unitCredits?.map((d) => [d.grantId, d.units])).toEqual([['calls', '1000']]);
    const ledger = unitLedgerOf(ports.catalog.getCustomer('acme', 'c'), ports.ledger.documents);
    expect(unitGrantBalance(ledger.grants, ledger.draws, 'calls', '2026-11-01').balanceUnits).toBe('500');
  });

  it('a void of the grant in the ledger stops it: usage after the void is priced', async () => {
    const { services, ports } = world([
      calls1500,
      { type: 'void', id: 'v1', grantId: 'calls', date: '2026-10-12', reason: 'refunded' },
    ]);
    const [issued] = await issueOctober(services);
    // Starter's 1,000 calls of 5 October granted; pro's 4,000 (15 and 25 October) after the void: 2000.
    // Lines 1000 + 0 + 4200 + 2000 = 7200; 20 % off 200 + 0 + 840 + 400 = 1440; 4 % of 800, 3360, 1600:
    // 32 + 134 (134.4) + 64 = 230; total 7200 − 1440 + 230 = 5990.
    expect(issued).toMatchObject({ status: 'issued', totalMinor: '5990' });
    const ledger = unitLedgerOf(ports.catalog.getCustomer('acme', 'c'), ports.ledger.documents);
    expect(unitGrantBalance(ledger.grants, ledger.draws, 'calls', '2026-11-01')).toMatchObject({
      drawnUnits: '1000',
      voidedUnits: '500',
      balanceUnits: '0',
    });
  });
});
