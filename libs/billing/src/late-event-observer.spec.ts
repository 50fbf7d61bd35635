import pino from 'pino';
import type { ClosedPeriodView } from './closed-periods';
import { LateEventObserver, type LateEvents, type RebillTrigger } from './late-event-observer';

class FakeView {
  caughtUp = 0;
  constructor(
    private readonly closed: Array<{
      tenant: string;
      customer: string;
      period: string;
      fromMs: number;
      toMs: number;
    }>,
  ) {}
  async catchUp() {
    this.caughtUp++;
    return true;
  }
  closedPeriodAt(tenant: string, customer: string, ts: number) {
    return this.closed.find(
      (c) => c.tenant === tenant && c.customer === customer && c.fromMs <= ts && ts < c.toMs,
    )?.period;
  }
}

const october = {
  tenant: 'acme',
  customer: 'a',
  period: '2026-10',
  fromMs: Date.parse('2026-10-01T00:00:00Z'),
  toMs: Date.parse('2026-11-01T00:00:00Z'),
};
const stored = (id: string, at: string, customer = 'a') => ({
  tenant: 'acme',
  id,
  ts: Date.parse(at),
  customer,
});
const logger = pino({ level: 'silent' });

describe('LateEventObserver', () => {
  it('reports events of closed periods only, grouped per period, after catching up with the markers', async () => {
    const view = new FakeView([october]);
    const sent: LateEvents[] = [];
    const observer = new LateEventObserver(
      view as unknown as ClosedPeriodView,
      { trigger: async (l) => void sent.push(l) },
      logger,
    );
    await observer.stored([
      stored('e1', '2026-10-10T00:00:00Z'),
      stored('e2', '2026-11-02T00:00:00Z'),
      stored('e3', '2026-10-31T23:59:59Z'),
      stored('e4', '2026-10-10T00:00:00Z', 'b'),
    ]);
    await observer.close();
    expect(view.caughtUp).toBe(1);
    expect(sent).toEqual([{ tenant: 'acme', customer: 'a', period: '2026-10', eventIds: ['e1', 'e3'] }]);
  });

  it('keeps late events while billing is unreachable and delivers them once it answers', async () => {
    const view = new FakeView([october]);
    const sent: LateEvents[] = [];
    let failures = 2;
    const trigger: RebillTrigger = {
      async trigger(l) {
        if (failures-- > 0) throw new Error('temporal unavailable');
        sent.push(l);
      },
    };
    const observer = new LateEventObserver(view as unknown as ClosedPeriodView, trigger, logger, {
      retryMinMs: 5,
      retryMaxMs: 10,
      idsPerSignal: 2,
    });
    await observer.stored([
      stored('e1', '2026-10-10T00:00:00Z'),
      stored('e2', '2026-10-11T00:00:00Z'),
      stored('e3', '2026-10-12T00:00:00Z'),
    ]);
    expect(observer.backlog).toBe(3);
    await observer.close(2_000);
    expect(observer.backlog).toBe(0);
    expect(sent.map((s) => s.eventIds)).toEqual([['e1', 'e2'], ['e3']]);
  });
});
