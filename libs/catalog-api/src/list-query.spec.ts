import { ValidationFailedError } from '@tally/errors';
import { paginate, parseListQuery } from './list-query';

describe('parseListQuery', () => {
  it('defaults to the first 100', () => {
    expect(parseListQuery({})).toEqual({ limit: 100 });
    expect(parseListQuery(undefined)).toEqual({ limit: 100 });
  });

  it('reads limit, after and declared filters', () => {
    expect(parseListQuery({ limit: '2', after: 'b', customer: 'c1' }, ['customer'])).toEqual({
      limit: 2,
      after: 'b',
      customer: 'c1',
    });
  });

  it('names every bad parameter', () => {
    try {
      parseListQuery({ limit: '5000', custmer: 'x' });
      throw new Error('expected a rejection');
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationFailedError);
      expect((e as ValidationFailedError).details.map((d) => [d.field, d.code])).toEqual([
        ['limit', 'OUT_OF_RANGE'],
        ['custmer', 'UNKNOWN_FIELD'],
      ]);
    }
  });
});

describe('paginate', () => {
  const ids = ['c', 'a', 'é', 'b', 'A'];
  const id = (s: string) => s;

  it('orders by id and hands out a cursor until the last page', () => {
    const first = paginate(ids, id, { limit: 2 });
    expect(first).toEqual({ items: ['A', 'a'], next: 'a' });
    const second = paginate(ids, id, { limit: 2, after: first.next });
    expect(second).toEqual({ items: ['b', 'c'], next: 'c' });
    expect(paginate(ids, id, { limit: 2, after: second.next })).toEqual({ items: ['é'] });
  });

  it('returns an empty page after the last id', () => {
    expect(paginate(ids, id, { limit: 10, after: '\uffff' })).toEqual({ items: [] });
    expect(paginate(ids, id, { limit: 5 })).toEqual({ items: ['A', 'a', 'b', 'c', 'é'] });
  });
});
