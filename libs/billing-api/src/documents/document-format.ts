import { BadRequestError } from '@tally/errors';

/** Nest injection token of the `PdfRenderer` the invoices route prints with. */
export const PDF_RENDERER = Symbol('PDF_RENDERER');

export type DocumentFormat = 'json' | 'html' | 'pdf';

const FORMATS: readonly DocumentFormat[] = ['json', 'html', 'pdf'];

/**
 * Which representation of `GET /v1/invoices/:id` is asked for, in this order: the id's suffix (`.html`,
 * `.pdf`), `?format=`, then `Accept: application/pdf`; JSON otherwise. HTML is only ever an explicit
 * choice (a browser's `Accept` names text/html, API clients send anything). A suffix and a different
 * `format` together are a 400.
 */
export function documentFormat(
  id: string,
  format: string | undefined,
  accept: string | undefined,
): { id: string; format: DocumentFormat } {
  if (format !== undefined && !FORMATS.includes(format as DocumentFormat))
    throw new BadRequestError('INVALID_FORMAT', "format must be 'json', 'html' or 'pdf'");
  const suffix = /\.(html|pdf)$/.exec(id)?.[1] as DocumentFormat | undefined;
  if (suffix && format !== undefined && format !== suffix)
    throw new BadRequestError(
      'INVALID_FORMAT',
      `'.${suffix}' and format=${format} ask for different formats`,
    );
  const bare = suffix ? id.slice(0, -(suffix.length + 1)) : id;
  if (suffix) return { id: bare, format: suffix };
  if (format !== undefined) return { id: bare, format: format as DocumentFormat };
  const pdf = (accept ?? '')
    .split(',')
    .some((part) => part.split(';')[0].trim().toLowerCase() === 'application/pdf');
  return { id: bare, format: pdf ? 'pdf' : 'json' };
}
