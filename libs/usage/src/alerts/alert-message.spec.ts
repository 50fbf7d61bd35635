import type { AlertRule } from '@tally/catalog';
import { alertId } from '@tally/alerts';
import { alertKey, thresholdValue } from './alert-message';

const rule: AlertRule = {
  tenant: 'acme',
  id: 'r1',
  meter: 'api',
  threshold: { kind: 'absolute', value: '100' },
};

describe('alert messages', () => {
  it('threshold values are exact', () => {
    expect(thresholdValue({ kind: 'absolute', value: '0100.50' })).toBe('100.5');
    expect(thresholdValue({ kind: 'percent_of_allowance', percent: 80, allowance: '10000' })).toBe('8000');
    expect(thresholdValue({ kind: 'percent_of_allowance', percent: 33.3, allowance: '0.1' })).toBe('0.0333');
    expect(thresholdValue({ kind: 'percent_of_allowance', percent: 0.0000001, allowance: '1' })).toBe(
      '0.000000001',
    );
  });

  it('keys are KV-safe for any customer id and change with the threshold and the period', () => {
    const key = alertKey(rule, "o'brien/ü. *>", new Date('2026-03-01T00:00:00Z'));
    expect(key).toMatch(/^acme\.r1\.[-_A-Za-z0-9]+\.1772323200\.[0-9a-f]{16}$/);
    expect(
      alertKey(
        { ...rule, threshold: { kind: 'absolute', value: '101' } },
        "o'brien/ü. *>",
        new Date('2026-03-01T00:00:00Z'),
      ),
    ).not.toBe(key);
    expect(alertKey(rule, "o'brien/ü. *>", new Date('2026-04-01T00:00:00Z'))).not.toBe(key);
    expect(alertId(key)).toMatch(/^alr_[0-9a-f]{32}$/);
    expect(alertId(key)).toBe(alertId(key));
  });
});
