import { documentFormat } from './document-format';

describe('documentFormat', () => {
  const id = 'inv-2026-10-3f9a01c2d4e5f6a7-v1';

  it('takes the suffix first, then ?format=, then Accept: application/pdf, JSON otherwise', () => {
    expect(documentFormat(`${id}.pdf`, undefined, 'application/json')).toEqual({ id, format: 'pdf' });
    expect(documentFormat(`${id}.html`, 'html', undefined)).toEqual({ id, format: 'html' });
    expect(documentFormat(id, 'pdf', undefined)).toEqual({ id, format: 'pdf' });
    expect(documentFormat(id, 'json', 'application/pdf')).toEqual({ id, format: 'json' });
    expect(documentFormat(id, undefined, 'text/plain, Application/PDF;q=0.9')).toEqual({ id, format: 'pdf' });
    expect(documentFormat(id, undefined, 'text/html,application/xhtml+xml,*/*')).toEqual({
      id,
      format: 'json',
    });
    expect(documentFormat(id, undefined, undefined)).toEqual({ id, format: 'json' });
  });

  it('refuses an unknown format and a suffix contradicted by ?format= (400 INVALID_FORMAT)', () => {
    expect(() => documentFormat(id, 'xml', undefined)).toThrow(
      expect.objectContaining({ code: 'INVALID_FORMAT', httpStatus: 400 }),
    );
    expect(() => documentFormat(`${id}.pdf`, 'html', undefined)).toThrow(
      expect.objectContaining({ code: 'INVALID_FORMAT', httpStatus: 400 }),
    );
  });
});
