import type { FieldIssue } from '@tally/errors';
import type { UnitGrantLedgerEntry } from './entities';

/**
 * What the schema cannot say about a unit grant written through the API (docs/finance.md#unit-grants):
 * it grants some units, it is usable for at least a day, and its meter is one of the tenant's (a grant
 * of a meter that does not exist would never be drawn). `meterExists` is undefined when the store
 * cannot tell.
 */
export function unitGrantIssues(entry: UnitGrantLedgerEntry, meterExists: boolean | undefined): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (/^[0.]+$/.test(entry.units))
    issues.push({ field: 'units', code: 'NOT_POSITIVE', message: 'a unit grant grants more than 0 units' });
  if (entry.expires !== undefined && entry.expires <= entry.effective)
    issues.push({
      field: 'expires',
      code: 'EXPIRES_NOT_AFTER_EFFECTIVE',
      message: `expires (${entry.expires}) must be after effective (${entry.effective})`,
    });
  if (meterExists === false)
    issues.push({
      field: 'meter',
      code: 'UNKNOWN_METER',
      message: `the tenant has no meter '${entry.meter}'`,
    });
  return issues;
}
