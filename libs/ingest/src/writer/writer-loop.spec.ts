import { flushDeadline } from './writer-loop';

describe('flushDeadline', () => {
  const now = 1_700_000_000_000;

  it('counts the interval from when JetStream stored the first message', () => {
    expect(flushDeadline(now, now, 1_000)).toBe(now + 1_000);
    // It waited 300 ms on the stream while the previous batch was stored: 700 ms are left.
    expect(flushDeadline(now, now - 300, 1_000)).toBe(now + 700);
  });

  it('still gives a batch half an interval to fill when its first message is old (a backlog)', () => {
    expect(flushDeadline(now, now - 60_000, 1_000)).toBe(now + 500);
  });

  it('ignores a stream time ahead of this clock', () => {
    expect(flushDeadline(now, now + 5_000, 1_000)).toBe(now + 1_000);
  });
});
