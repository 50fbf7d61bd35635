import { ValidationFailedError } from '@tally/errors';
import { datasetSchema, parseEntity } from './entities';
import { catalogKeys, parseCatalogKey } from './keys';

function codes(input: unknown): string[] {
  try {
    parseEntity(datasetSchema, input, 'dataset');
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationFailedError);
    return (e as ValidationFailedError).details.map((d) => `${d.field}:${d.code}`);
  }
}

describe('dataset', () => {
  const d = { tenant: 'acme', name: 'usage_indexed_by_customer_id', kind: 'analytics' };

  it('takes analytics and billing datasets, sampling only for analytics', () => {
    expect(codes(d)).toEqual([]);
    expect(codes({ ...d, sampling: { budgetPerIndexPerWindow: 50, windowMs: 1000 } })).toEqual([]);
    expect(codes({ ...d, kind: 'billing' })).toEqual([]);
    expect(
      codes({ ...d, kind: 'billing', sampling: { budgetPerIndexPerWindow: 50, windowMs: 1000 } }),
    ).toEqual(['sampling:SAMPLING_NOT_ALLOWED']);
  });

  it('reports every bad field', () => {
    expect(
      codes({
        tenant: 'Acme',
        name: '1st',
        kind: 'metrics',
        sampling: { budgetPerIndexPerWindow: 0, windowMs: 20.5 },
        extra: true,
      }),
    ).toEqual([
      'tenant:INVALID_FORMAT',
      'name:INVALID_FORMAT',
      'kind:INVALID_VALUE',
      'sampling.budgetPerIndexPerWindow:OUT_OF_RANGE',
      'sampling.windowMs:INVALID_TYPE',
      'extra:UNKNOWN_FIELD',
    ]);
  });

  it('has its own keys, which the parser reads back', () => {
    expect(catalogKeys.dataset('acme', 'api_calls')).toBe('dataset.acme.api_calls');
    expect(parseCatalogKey('dataset.acme.api_calls')).toEqual({
      kind: 'dataset',
      tenant: 'acme',
      id: 'api_calls',
    });
    expect(catalogKeys.ownedBy('acme')).toContain('dataset.acme.>');
  });
});
