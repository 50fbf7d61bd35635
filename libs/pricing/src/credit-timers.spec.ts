import {
  creditBalance,
  creditGrantTimers,
  drawCredits,
  type CreditEntry,
  type CreditGrantTimers,
  type CreditTimerRecord,
} from './index';

/** What a grant's timer workflow appends when it wakes on `asOf`: the due events not yet recorded. */
function wake(entries: CreditEntry[], grantId: string, asOf: string): [CreditEntry[], CreditGrantTimers] {
  const timers = creditGrantTimers(entries, grantId, asOf);
  const have = new Set(entries.map((e) => (e.type === 'grant' ? e.grant.id : e.id)));
  const added: CreditTimerRecord[] = timers.due
    .filter((d) => !have.has(d.entryId))
    .map((d) => ({ type: d.kind, id: d.entryId, grantId, bucketId: d.bucketId, date: d.date }));
  return [[...entries, ...added], timers];
}

describe('credit grant timers (expiry and recurrence records)', () => {
  it('a one-off grant: nothing due before its expiry, the expiry on its date, then nothing more', () => {
    // $50.00 usable from 15 February up to 16 March; March's invoice draws 3000 for 1-15 March (written
    // on 1 April, after the timer fired): the replay expires 5000 - 3000 = 2000 on 16 March, record or not.
    const grant: CreditEntry = {
      type: 'grant',
      grant: {
        id: 'g',
        currency: 'USD',
        amountMinor: '5000',
        effective: '2026-02-15',
        expires: '2026-03-16',
      },
    };
    expect(creditGrantTimers([grant], 'g', '2026-02-15')).toMatchObject({ due: [], next: '2026-03-16' });
    expect(creditGrantTimers([grant], 'g', '2026-03-15')).toMatchObject({ due: [], next: '2026-03-16' });
    const [recorded, timers] = wake([grant], 'g', '2026-03-16');
    let entries = recorded;
    expect(timers.due).toEqual([{ kind: 'expiry', entryId: 'g__expiry', bucketId: 'g', date: '2026-03-16' }]);
    expect(timers.next).toBeUndefined();
    // Waking again (a retry, a restarted worker) adds nothing.
    expect(wake(entries, 'g', '2026-03-16')[0]).toEqual(entries);
    const draw = drawCredits(
      entries,
      'USD',
      [
        { from: '2026-03-01', to: '2026-03-16', amountMinor: '3000' },
        { from: '2026-03-16', to: '2026-04-01', amountMinor: '4000' },
      ],
      'inv-2026-03',
    );
    expect(draw.drawnMinor).toBe('3000');
    entries = [...entries, ...draw.entries];
    const b = creditBalance(entries, 'USD', '2026-04-01');
    expect([b.balanceMinor, b.grantedMinor, b.drawnMinor, b.expiredMinor]).toEqual([
      '0',
      '5000',
      '3000',
      '2000',
    ]);
    expect(b.log.find((l) => l.type === 'expiry')).toMatchObject({
      amountMinor: '2000',
      recorded: 'g__expiry',
    });
    // The record moves nothing: the same balance without it.
    const without = creditBalance(
      entries.filter((e) => e.type !== 'expiry'),
      'USD',
      '2026-04-01',
    );
    expect(without.balanceMinor).toBe(b.balanceMinor);
    expect(without.expiredMinor).toBe(b.expiredMinor);
  });

  it('a recurring monthly grant with rollover: each occurrence and each expiry recorded once, on its date', () => {
    // docs/finance.md's example: $10.00 every month from 1 January, rest rolled over one month (≤ $5.00);
    // usage $6.00, $12.00, $1.00 invoiced on the 1st of the next month, after the timer woke.
    const grant: CreditEntry = {
      type: 'grant',
      grant: {
        id: 'monthly',
        currency: 'USD',
        amountMinor: '1000',
        effective: '2026-01-01',
        recurrence: { everyMonths: 1 },
        rollover: { maxMinor: '500' },
      },
    };
    let entries: CreditEntry[] = [grant];
    let timers = creditGrantTimers(entries, 'monthly', '2026-01-01');
    expect(timers).toMatchObject({ due: [], next: '2026-02-01' });
    const usage: Array<[string, string, string]> = [
      ['2026-01-01', '2026-02-01', '600'],
      ['2026-02-01', '2026-03-01', '1200'],
      ['2026-03-01', '2026-04-01', '100'],
    ];
    const wakes: string[] = [];
    for (const [from, to, amount] of usage) {
      // The timer wakes on `to` and records; the month's invoice draws afterwards.
      wakes.push(timers.next ?? 'none');
      [entries, timers] = wake(entries, 'monthly', to);
      entries = [
        ...entries,
        ...drawCredits(entries, 'USD', [{ from, to, amountMinor: amount }], `inv-${from}`).entries,
      ];
    }
    expect(wakes).toEqual(['2026-02-01', '2026-03-01', '2026-04-01']);
    expect(timers.next).toBe('2026-05-01');
    const records = entries.filter(
      (e): e is CreditTimerRecord => e.type === 'expiry' || e.type === 'recurrence',
    );
    expect(records.map((r) => [r.date, r.id])).toEqual([
      ['2026-02-01', 'monthly__0__expiry'],
      ['2026-02-01', 'monthly__1__recurrence'],
      ['2026-03-01', 'monthly__0__rollover__expiry'],
      ['2026-03-01', 'monthly__1__expiry'],
      ['2026-03-01', 'monthly__2__recurrence'],
      ['2026-04-01', 'monthly__1__rollover__expiry'],
      ['2026-04-01', 'monthly__2__expiry'],
      ['2026-04-01', 'monthly__3__recurrence'],
    ]);
    // The balance of the worked example, unchanged by the records: 5100 − 1900 − 1700 = 1500; every
    // expiry of the replay (400, 200, 100, 1000) names its record; the January rollover, all drawn in
    // February, has a record of its date and nothing expiring.
    const b = creditBalance(entries, 'USD', '2026-04-01');
    expect([b.balanceMinor, b.grantedMinor, b.drawnMinor, b.expiredMinor]).toEqual([
      '1500',
      '5100',
      '1900',
      '1700',
    ]);
    expect(b.log.filter((l) => l.type === 'expiry').map((l) => [l.amountMinor, l.recorded])).toEqual([
      ['400', 'monthly__0__expiry'],
      ['200', 'monthly__1__expiry'],
      ['100', 'monthly__1__rollover__expiry'],
      ['1000', 'monthly__2__expiry'],
    ]);
  });

  it('a void ends the timers: an expiry after the void does not come', () => {
    const entries: CreditEntry[] = [
      {
        type: 'grant',
        grant: {
          id: 'g',
          currency: 'USD',
          amountMinor: '5000',
          effective: '2026-02-15',
          expires: '2026-03-16',
        },
      },
      { type: 'void', id: 'v', grantId: 'g', date: '2026-03-10' },
    ];
    expect(creditGrantTimers(entries, 'g', '2026-03-01')).toMatchObject({ due: [] });
    expect(creditGrantTimers(entries, 'g', '2026-03-01').next).toBeUndefined();
    expect(creditGrantTimers(entries, 'g', '2026-03-20').due).toEqual([]);
    expect(creditGrantTimers(entries, 'unknown', '2026-03-20')).toEqual({ due: [] });
  });
});
