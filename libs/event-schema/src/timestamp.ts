/**
 * Timestamp parsing without regular expressions or `Date.parse` (whose accepted formats vary): a
 * fixed-position RFC 3339 scanner and an integer epoch-milliseconds reader. Both return NaN when the
 * input is not a valid timestamp; range checks are the caller's.
 */

/** First instant accepted: 1970-01-01T00:00:00Z (ClickHouse DateTime lower bound). */
export const TS_MIN_MS = 0;
/** First instant rejected: 2106-01-01T00:00:00Z (ClickHouse DateTime ends 2106-02-07). */
export const TS_MAX_EXCLUSIVE_MS = 4_291_747_200_000;

/** A digit's value, or a large negative number that keeps any sum of digit products negative. */
function dig(s: string, i: number): number {
  const c = s.charCodeAt(i) - 48; // NaN past the end: both comparisons false
  return c >= 0 && c <= 9 ? c : -1e9;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/**
 * RFC 3339 date-time → epoch ms: `YYYY-MM-DD"T"hh:mm:ss[.frac]("Z"|±hh:mm)`; "t" and "z" may be
 * lower case. Fractional seconds are truncated to milliseconds. A leap second (:60) is read as
 * :59.999 so that ordering is preserved. No offset (local time) is invalid.
 */
export function parseRfc3339(s: string): number {
  const len = s.length;
  if (len < 20 || len > 64) return NaN;
  const year = dig(s, 0) * 1000 + dig(s, 1) * 100 + dig(s, 2) * 10 + dig(s, 3);
  const month = dig(s, 5) * 10 + dig(s, 6);
  const day = dig(s, 8) * 10 + dig(s, 9);
  const hour = dig(s, 11) * 10 + dig(s, 12);
  const minute = dig(s, 14) * 10 + dig(s, 15);
  let second = dig(s, 17) * 10 + dig(s, 18);
  const t = s.charCodeAt(10);
  if (
    year < 0 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(year, month) ||
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    second < 0 ||
    second > 60 ||
    s.charCodeAt(4) !== 45 ||
    s.charCodeAt(7) !== 45 ||
    (t !== 84 /* T */ && t !== 116) /* t */ ||
    s.charCodeAt(13) !== 58 ||
    s.charCodeAt(16) !== 58
  ) {
    return NaN;
  }
  let ms = 0;
  let i = 19;
  if (s.charCodeAt(i) === 46 /* . */) {
    i++;
    const start = i;
    let c: number;
    while (i < len && (c = s.charCodeAt(i)) >= 48 && c <= 57) {
      if (i - start < 3) ms = ms * 10 + (c - 48);
      i++;
    }
    const n = i - start;
    if (n === 0) return NaN;
    if (n === 1) ms *= 100;
    else if (n === 2) ms *= 10;
  }
  if (second === 60) {
    second = 59;
    ms = 999;
  }
  let offsetMin = 0;
  const z = s.charCodeAt(i);
  if (z === 90 /* Z */ || z === 122 /* z */) {
    if (i + 1 !== len) return NaN;
  } else if (z === 43 /* + */ || z === 45 /* - */) {
    if (i + 6 !== len || s.charCodeAt(i + 3) !== 58) return NaN;
    const oh = dig(s, i + 1) * 10 + dig(s, i + 2);
    const om = dig(s, i + 4) * 10 + dig(s, i + 5);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return NaN;
    offsetMin = (oh * 60 + om) * (z === 45 ? -1 : 1);
  } else {
    return NaN;
  }
  return (
    daysFromCivil(year, month, day) * 86_400_000 +
    hour * 3_600_000 +
    (minute - offsetMin) * 60_000 +
    second * 1000 +
    ms
  );
}

/** An integer epoch-milliseconds string (`-?[0-9]{1,16}`) → number, else NaN. */
export function parseEpochMsString(s: string): number {
  const len = s.length;
  let i = s.charCodeAt(0) === 45 ? 1 : 0;
  if (len === i || len - i > 16) return NaN;
  for (; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return NaN;
  }
  return Number(s);
}

/**
 * A timestamp value → epoch ms (NaN when invalid): an RFC 3339 string, or (when `allowEpoch`) an
 * integer JSON number or integer string of epoch milliseconds. Range is not checked here.
 */
export function parseTimestamp(value: unknown, allowEpoch = true): number {
  if (typeof value === 'string') {
    if (value.length >= 20 && value.charCodeAt(4) === 45) return parseRfc3339(value);
    return allowEpoch ? parseEpochMsString(value) : NaN;
  }
  if (allowEpoch && typeof value === 'number' && Number.isSafeInteger(value)) return value;
  return NaN;
}
