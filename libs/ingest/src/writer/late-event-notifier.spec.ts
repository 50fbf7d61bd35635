import pino from 'pino';
import type { LateEventNotice } from '@tally/nats';
import type { StoredEvent } from './batch-writer';
import { LateEventNotifier, type ClosedPeriods, type LateEventNoticeSink } from './late-event-notifier';

const october = { tenant: 'acme', customer: 'a', period: '2026-10', fromMs: Date.parse('2026-10-01T00:00:00Z'), toMs: Date.parse('2026-11-01T00:00:00Z') };

class FakeView implements ClosedPeriods {
  caughtUp = 0;
  upToDate = true;
  async catchUp() {
    this.caughtUp++;
    return this.upToDate;
  }
  closedPeriodAt(tenant: string, customer: string, ts: number) {
    const c = october;
    return c.tenant === tenant && c.customer === customer && c.fromMs <= ts && ts < c.toMs ? c.period : undefined;
  }
}

class Sink implements LateEventNoticeSink {
  published: Array<{ notice: LateEventNotice; msgId: string }> = [];
  async publish(notices: Array<{ notice: LateEventNotice; msgId: string }>) {
    this.published.push(...notices);
  }
}

const event = (id: string, at: string, customer = 'a') => ({ tenant: 'acme', id, ts: Date.parse(at), customer }) as StoredEvent;
const logger = pino({ level: 'silent' });

describe('LateEventNotifier', () => {
  it('publishes one notice per closed period with the count, after catching up with the markers', async () => {
    const view = new FakeView();
    const sink = new Sink();
    await new LateEventNotifier(view, sink, logger).stored([
      event('e1', '2026-10-10T00:00:00Z'),
      event('e2', '2026-11-02T00:00:00Z'),
      event('e3', '2026-10-31T23:59:59Z'),
      event('e4', '2026-10-10T00:00:00Z', 'b'),
    ]);
    expect(view.caughtUp).toBe(1);
    expect(sink.published.map((p) => p.notice)).toEqual([
      { tenant: 'acme', customer: 'a', period: '2026-10', count: 2, sampleEventId: 'e1' },
    ]);
  });

  it('gives the same events the same message id (JetStream drops a re-published notice) and others another', async () => {
    const sink = new Sink();
    const notifier = new LateEventNotifier(new FakeView(), sink, logger);
    await notifier.stored([event('e1', '2026-10-10T00:00:00Z'), event('e2', '2026-10-11T00:00:00Z')]);
    await notifier.stored([event('e1', '2026-10-10T00:00:00Z'), event('e2', '2026-10-11T00:00:00Z')]);
    await notifier.stored([event('e1', '2026-10-10T00:00:00Z'), event('e3', '2026-10-11T00:00:00Z')]);
    const ids = sink.published.map((p) => p.msgId);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[0]);
  });

  it('refuses the batch (so it is not acked) when the markers cannot be brought up to date or the stream refuses', async () => {
    const view = new FakeView();
    view.upToDate = false;
    await expect(new LateEventNotifier(view, new Sink(), logger).stored([event('e1', '2026-10-10T00:00:00Z')])).rejects.toThrow(/not acked/);
    const failing: LateEventNoticeSink = { publish: async () => Promise.reject(new Error('stream full')) };
    await expect(new LateEventNotifier(new FakeView(), failing, logger).stored([event('e1', '2026-10-10T00:00:00Z')])).rejects.toThrow('stream full');
  });
});
