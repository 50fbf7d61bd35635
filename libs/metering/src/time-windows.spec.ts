import { startOfLocalDate, utcOffsetSeconds, windowStartOf } from './time-windows';
import { isValidTimeZone, timeZoneProblem } from './timezone';

const s = (iso: string) => Date.parse(iso) / 1000;

describe('windowStartOf', () => {
  it.each([
    // New York, spring forward on 2026-03-08 (23-hour day) and fall back on 2026-11-01 (25-hour day).
    ['day', '2026-03-08T04:59:59Z', 'America/New_York', '2026-03-07T05:00:00Z'],
    ['day', '2026-03-08T05:00:00Z', 'America/New_York', '2026-03-08T05:00:00Z'],
    ['day', '2026-03-09T03:59:59Z', 'America/New_York', '2026-03-08T05:00:00Z'],
    ['day', '2026-03-09T04:00:00Z', 'America/New_York', '2026-03-09T04:00:00Z'],
    ['day', '2026-11-01T06:30:00Z', 'America/New_York', '2026-11-01T04:00:00Z'],
    ['day', '2026-11-02T04:59:59Z', 'America/New_York', '2026-11-01T04:00:00Z'],
    ['day', '2026-11-02T05:00:00Z', 'America/New_York', '2026-11-02T05:00:00Z'],
    // Santiago springs forward at midnight: 2026-09-06 starts at 01:00 local (04:00 UTC), as in ClickHouse.
    ['day', '2026-09-06T12:00:00Z', 'America/Santiago', '2026-09-06T04:00:00Z'],
    ['hour', '2026-11-01T05:30:00Z', 'America/New_York', '2026-11-01T05:00:00Z'],
    ['hour', '2026-11-01T06:30:00Z', 'America/New_York', '2026-11-01T06:00:00Z'],
    ['hour', '2026-11-01T05:29:00Z', 'Asia/Kolkata', '2026-11-01T04:30:00Z'],
    ['minute', '2026-11-01T05:29:59Z', 'Asia/Kolkata', '2026-11-01T05:29:00Z'],
    ['month', '2026-03-31T23:00:00Z', 'America/New_York', '2026-03-01T05:00:00Z'],
    ['month', '2026-04-01T03:59:59Z', 'America/New_York', '2026-03-01T05:00:00Z'],
    ['month', '2026-04-01T04:00:00Z', 'America/New_York', '2026-04-01T04:00:00Z'],
    ['month', '2026-01-01T00:00:00Z', 'Pacific/Kiritimati', '2025-12-31T10:00:00Z'], // UTC+14,
  ] as const)('%s of %s in %s starts at %s', (window, at, tz, expected) => {
    expect(windowStartOf(window, s(at), tz)).toBe(s(expected));
  });

  it('offsets and day starts', () => {
    expect(utcOffsetSeconds(s('2026-07-01T00:00:00Z'), 'America/New_York')).toBe(-4 * 3600);
    expect(utcOffsetSeconds(s('2026-01-01T00:00:00Z'), 'Asia/Kolkata')).toBe(5.5 * 3600);
    expect(startOfLocalDate(2026, 1, 1, 'UTC')).toBe(s('2026-01-01T00:00:00Z'));
  });
});

describe('time-zone names', () => {
  it.each([
    ['America/New_York', true],
    ['UTC', true],
    ['Etc/GMT+5', true],
    ['Asia/Kolkata', true],
    ['America/Port-au-Prince', true],
    ['america/new_york', false],
    ['Mars/Olympus', false],
    ['+05:00', false],
    ['', false],
  ])('%s → %s', (name, ok) => {
    expect(isValidTimeZone(name)).toBe(ok);
  });

  it('suggests the canonical spelling', () => {
    expect(timeZoneProblem('america/new_york')).toContain("'America/New_York'");
  });
});
