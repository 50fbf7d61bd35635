import { BadRequestError, ValidationFailedError } from '@tally/errors';
import { conditionsFromHeaders, etagOf, mergeConditions } from './preconditions';

describe('conditionsFromHeaders', () => {
  it('reads nothing as last-write-wins', () => {
    expect(conditionsFromHeaders({})).toEqual({});
    expect(conditionsFromHeaders({ 'if-match': '  ' })).toEqual({});
  });

  it('reads the ETag a read returned, strong, weak or bare', () => {
    expect(conditionsFromHeaders({ 'if-match': etagOf(42) })).toEqual({ expectedRevision: 42 });
    expect(conditionsFromHeaders({ 'if-match': 'W/"7"' })).toEqual({ expectedRevision: 7 });
    expect(conditionsFromHeaders({ 'if-match': '7' })).toEqual({ expectedRevision: 7 });
  });

  it('reads If-Match: * as must exist and If-None-Match: * as create only', () => {
    expect(conditionsFromHeaders({ 'if-match': '*' })).toEqual({ mustExist: true });
    expect(conditionsFromHeaders({ 'if-none-match': '*' })).toEqual({ expectedRevision: 0 });
  });

  it.each([
    [{ 'if-match': '"abc"' }, 'If-Match'],
    [{ 'if-match': '"0"' }, 'If-Match'],
    [{ 'if-match': '"1", "2"' }, 'If-Match'],
    [{ 'if-none-match': '"3"' }, 'If-None-Match'],
    [{ 'if-match': '"1"', 'if-none-match': '*' }, 'If-None-Match'],
  ])('refuses %j naming the header', (headers, field) => {
    let caught: unknown;
    try {
      conditionsFromHeaders(headers);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(BadRequestError);
    expect((caught as BadRequestError).code).toBe('INVALID_PRECONDITION');
    expect((caught as BadRequestError).details[0].field).toBe(field);
  });
});

describe('mergeConditions', () => {
  it('takes expectedRevision from the body when no header says otherwise', () => {
    expect(mergeConditions({}, 0)).toEqual({ expectedRevision: 0 });
    expect(mergeConditions({}, 5)).toEqual({ expectedRevision: 5 });
    expect(mergeConditions({ expectedRevision: 5 }, 5)).toEqual({ expectedRevision: 5 });
    expect(mergeConditions({ mustExist: true }, undefined)).toEqual({ mustExist: true });
  });

  it.each([
    [{}, -1, 'INVALID_VALUE'],
    [{}, '3', 'INVALID_VALUE'],
    [{}, 1.5, 'INVALID_VALUE'],
    [{ expectedRevision: 4 }, 5, 'PRECONDITION_MISMATCH'],
    [{ mustExist: true }, 5, 'PRECONDITION_MISMATCH'],
  ])('refuses header %j with body %j (%s)', (headers, body, code) => {
    try {
      mergeConditions(headers, body);
      throw new Error('expected a rejection');
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationFailedError);
      expect((e as ValidationFailedError).details).toEqual([
        expect.objectContaining({ field: 'expectedRevision', code }),
      ]);
    }
  });
});
