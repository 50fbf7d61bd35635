import { formatMinor } from '@tally/pricing';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text for HTML content or a quoted attribute: every character that could start markup is escaped. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** An amount in minor units as the documents print it: `1234.56 USD`; the raw minor units if the currency is unknown. */
export function money(minor: string, currency: string): string {
  try {
    return `${formatMinor(minor, currency)} ${currency}`;
  } catch {
    return `${minor} (minor units) ${currency}`;
  }
}

/** `money`, escaped, with a minus sign: what a document takes off (discounts, credits). */
export function minus(minor: string, currency: string): string {
  return escapeHtml(money((-BigInt(minor)).toString(), currency));
}
