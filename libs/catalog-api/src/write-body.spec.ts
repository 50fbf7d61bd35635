import { UnsupportedMediaTypeError, ValidationFailedError } from '@tally/errors';
import { decodeWrite, type WriteScope } from './write-body';

const scope: WriteScope = { tenant: 'acme', hasTenantField: true, idField: 'id', id: 'a/b c' };

function rejection(fn: () => unknown): ValidationFailedError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationFailedError);
    return e as ValidationFailedError;
  }
  throw new Error('expected a rejection');
}

describe('decodeWrite', () => {
  it('fills in the tenant from the key and the id from the path', () => {
    expect(decodeWrite({ name: 'Globex' }, {}, scope)).toEqual({
      input: { name: 'Globex', tenant: 'acme', id: 'a/b c' },
      conditions: {},
    });
  });

  it('accepts a read sent back as it is: same tenant and id, revision dropped', () => {
    const read = { tenant: 'acme', id: 'a/b c', name: 'Globex', revision: 7 };
    expect(decodeWrite(read, { 'if-match': '"7"' }, scope)).toEqual({
      input: { tenant: 'acme', id: 'a/b c', name: 'Globex' },
      conditions: { expectedRevision: 7 },
    });
  });

  it('turns a body expectedRevision into a precondition', () => {
    expect(decodeWrite({ expectedRevision: 0 }, {}, scope).conditions).toEqual({ expectedRevision: 0 });
  });

  it('refuses another tenant or id, with every schema issue of the input too', () => {
    const error = rejection(() =>
      decodeWrite(
        { tenant: 'globex', id: 'other', name: '' },
        {},
        {
          ...scope,
          validate: (input) => [
            { field: 'name', code: 'TOO_SHORT', message: 'too short' },
            // The mismatched field is reported once, as a mismatch.
            ...(input.tenant === 'acme' ? [] : [{ field: 'tenant', code: 'X', message: 'x' }]),
          ],
        },
      ),
    );
    expect(error.details.map((d) => [d.field, d.code])).toEqual([
      ['tenant', 'TENANT_MISMATCH'],
      ['id', 'ID_MISMATCH'],
      ['name', 'TOO_SHORT'],
    ]);
  });

  it('names the key field of meters', () => {
    const error = rejection(() =>
      decodeWrite(
        { key: 'calls' },
        {},
        { tenant: 'acme', hasTenantField: true, idField: 'key', id: 'plays' },
      ),
    );
    expect(error.details[0]).toMatchObject({ field: 'key', code: 'ID_MISMATCH' });
  });

  it.each([null, [], 'text', 3])('refuses a body that is not an object (%j)', (body) => {
    expect(rejection(() => decodeWrite(body, {}, scope)).details[0]).toMatchObject({
      field: '',
      code: 'INVALID_TYPE',
    });
  });

  it('answers 415 to a body that is not JSON', () => {
    expect(() =>
      decodeWrite(Buffer.from('a=b'), { 'content-type': 'application/x-www-form-urlencoded' }, scope),
    ).toThrow(UnsupportedMediaTypeError);
  });
});
