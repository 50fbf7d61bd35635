/**
 * Prepaid credits: a ledger per customer, replayed deterministically from its entries.
 *
 * The ledger holds what happened and never changes it: `grant` entries (a grant, a paid top-up, a
 * promotion, a proration credit; one-off or recurring, with rollover), `void` entries (the rest of a
 * grant is cancelled from a date on) and `draw` entries (an invoice used some credit). Expiries and
 * rollovers are not written by anyone: they follow from the entries and the calendar, so the balance
 * at any date is the same whoever computes it and whenever (a backdated entry changes the replay, not
 * a stored snapshot). Replaying gives the derived log: `grant` (every bucket as it starts: a one-off
 * grant, each recurrence, each rollover), `draw`, `void` and `expiry`, and at every date
 *
 *     balance = Σ grant − Σ draw − Σ void − Σ expiry.
 *
 * Dates are local dates `YYYY-MM-DD` in the customer's zone, like subscriptions: a grant is usable from
 * the start of `effective` to the start of `expires` (exclusive).
 *
 * Draw order (within the part of a period where a set of buckets is usable): lowest `priority` first,
 * then the earliest expiry (none last), then the earliest effective date, then the bucket id.
 */
import { D, type Dec, ZERO, dec, min, str } from './decimal';
import { PricingError } from './errors';
import { addMonthsToDate, isLocalDate } from './dates';
import { allocate, minorArg } from './money';

export type CreditSource = 'grant' | 'purchase' | 'promotion' | 'top_up' | 'proration' | 'credit_note';

export interface CreditGrant {
  id: string;
  name?: string;
  currency: string;
  /** Credit per occurrence, minor units. */
  amountMinor: string;
  /** Lower is drawn first. Default 10. */
  priority?: number;
  /** First local date it is usable. */
  effective: string;
  /** First local date it is no longer usable (exclusive). Recurring: no occurrence starts on or after it. */
  expires?: string;
  /** Recurs every `everyMonths` months from `effective`; each occurrence is usable until the next starts. */
  recurrence?: { everyMonths: number };
  /** Recurring only: the unused rest of an occurrence (at most `maxMinor`) stays usable one more occurrence. */
  rollover?: { maxMinor?: string };
  source?: CreditSource;
}

/**
 * What a grant's timer workflow recorded (docs/finance.md#expiry-and-recurrence-timers): that a bucket's
 * expiry date or a recurring grant's next occurrence has come. A record never moves the balance: the
 * replay derives every expiry and occurrence from the grants and the calendar (an invoice for days
 * before the expiry can still draw afterwards, so the amount that expires is the replay's); the log
 * names the record that saw it (`recorded`).
 */
export interface CreditTimerRecord {
  type: 'expiry' | 'recurrence';
  id: string;
  grantId: string;
  bucketId: string;
  date: string;
}

export type CreditEntry =
  | { type: 'grant'; grant: CreditGrant }
  | CreditTimerRecord
  | { type: 'void'; id: string; grantId: string; date: string; reason?: string }
  | {
      type: 'draw';
      id: string;
      /** The bucket drawn: the grant id, `<grant>#<k>` for occurrence k, `<grant>#<k>:rollover`. */
      bucketId: string;
      grantId: string;
      date: string;
      amountMinor: string;
      invoiceId: string;
    };

/** A usable amount: a one-off grant, one occurrence of a recurring grant, or a rollover. */
export interface CreditBucket {
  bucketId: string;
  grantId: string;
  kind: 'grant' | 'occurrence' | 'rollover';
  currency: string;
  priority: number;
  effective: string;
  expires?: string;
  grantedMinor: string;
  remainingMinor: string;
}

/** The derived log: every change to the balance, in date order. */
export interface CreditLogEntry {
  type: 'grant' | 'draw' | 'void' | 'expiry';
  date: string;
  bucketId: string;
  grantId: string;
  amountMinor: string;
  invoiceId?: string;
  /** The id of the timer record that saw this expiry or occurrence come (`CreditTimerRecord`). */
  recorded?: string;
}

export interface CreditBalance {
  asOf: string;
  currency: string;
  balanceMinor: string;
  grantedMinor: string;
  drawnMinor: string;
  voidedMinor: string;
  expiredMinor: string;
  /** Buckets usable on `asOf` with something left, in draw order. */
  buckets: CreditBucket[];
  log: CreditLogEntry[];
}

export const DEFAULT_CREDIT_PRIORITY = 10;

interface Bucket {
  bucketId: string;
  grant: CreditGrant;
  kind: CreditBucket['kind'];
  occurrence: number;
  effective: string;
  expires?: string;
  granted: Dec;
  remaining: Dec;
  open: boolean;
}

function ledgerError(message: string, field = 'entries'): PricingError {
  return new PricingError('INVALID_ARGUMENT', message, [{ field, code: 'REQUIRED', message }]);
}

/** Occurrence `k` of a grant: its dates, or undefined when the recurrence has ended. */
export function grantOccurrence(
  g: CreditGrant,
  k: number,
): { effective: string; expires?: string } | undefined {
  if (!g.recurrence) {
    return k === 0 ? { effective: g.effective, ...(g.expires ? { expires: g.expires } : {}) } : undefined;
  }
  const every = g.recurrence.everyMonths;
  const anchor = parseInt(g.effective.slice(8, 10), 10);
  const effective = k === 0 ? g.effective : addMonthsToDate(g.effective, k * every, anchor);
  if (g.expires !== undefined && effective >= g.expires) return undefined;
  let expires = addMonthsToDate(g.effective, (k + 1) * every, anchor);
  if (g.expires !== undefined && g.expires < expires) expires = g.expires;
  return { effective, expires };
}

function order(a: Bucket, b: Bucket): number {
  return compareDrawOrder(
    {
      priority: a.grant.priority ?? DEFAULT_CREDIT_PRIORITY,
      expires: a.expires,
      effective: a.effective,
      id: a.bucketId,
    },
    {
      priority: b.grant.priority ?? DEFAULT_CREDIT_PRIORITY,
      expires: b.expires,
      effective: b.effective,
      id: b.bucketId,
    },
  );
}

/** What decides which of two usable grants (money or units) is drawn first. */
export interface DrawOrderKey {
  priority: number;
  expires?: string;
  effective: string;
  id: string;
}

/** Lowest priority first, then the earliest expiry (none last), then the earliest start, then the id. */
export function compareDrawOrder(a: DrawOrderKey, b: DrawOrderKey): number {
  if (a.priority !== b.priority) return a.priority - b.priority;
  if (a.expires !== b.expires) {
    if (a.expires === undefined) return 1;
    if (b.expires === undefined) return -1;
    return a.expires < b.expires ? -1 : 1;
  }
  if (a.effective !== b.effective) return a.effective < b.effective ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Replays the ledger up to and including `asOf`: every bucket that started by then, with what is
 * left, and the derived log. On one date, expiries come first (a bucket expiring on `d` is not usable
 * on `d`), then new buckets (rollovers, occurrences, grants), then voids, then draws.
 * Throws when a draw takes more than its bucket has left, or names an unknown bucket.
 */
export function replayCredits(
  entries: readonly CreditEntry[],
  currency: string,
  asOf: string,
): {
  buckets: Bucket[];
  log: CreditLogEntry[];
} {
  if (!isLocalDate(asOf)) throw ledgerError(`asOf '${asOf}' is not a date YYYY-MM-DD`, 'asOf');
  const grants = new Map<string, CreditGrant>();
  for (const e of entries) {
    if (e.type !== 'grant' || e.grant.currency !== currency) continue;
    if (grants.has(e.grant.id)) throw ledgerError(`grant '${e.grant.id}' is in the ledger twice`);
    minorArg(e.grant.amountMinor, `grants.${e.grant.id}.amountMinor`);
    grants.set(e.grant.id, e.grant);
  }
  const voids = entries.filter(
    (e): e is Extract<CreditEntry, { type: 'void' }> => e.type === 'void' && grants.has(e.grantId),
  );
  const draws = entries.filter(
    (e): e is Extract<CreditEntry, { type: 'draw' }> => e.type === 'draw' && grants.has(e.grantId),
  );
  const voidDate = new Map<string, string>();
  for (const v of voids) {
    const d = voidDate.get(v.grantId);
    if (d === undefined || v.date < d) voidDate.set(v.grantId, v.date);
  }

  // Every date something happens, up to asOf.
  const dates = new Set<string>();
  for (const g of grants.values()) {
    for (let k = 0; ; k++) {
      const o = grantOccurrence(g, k);
      if (!o || o.effective > asOf) break;
      const v = voidDate.get(g.id);
      if (v !== undefined && o.effective >= v) break;
      dates.add(o.effective);
      if (o.expires !== undefined && o.expires <= asOf) dates.add(o.expires);
      if (o.expires !== undefined && g.rollover && o.expires <= asOf) {
        const next = grantOccurrence(g, k + 1);
        const end = next?.expires ?? addMonthsToDate(o.expires, g.recurrence?.everyMonths ?? 1);
        if (end <= asOf) dates.add(end);
      }
    }
  }
  for (const v of voids) if (v.date <= asOf) dates.add(v.date);
  for (const d of draws) if (d.date <= asOf) dates.add(d.date);

  const buckets = new Map<string, Bucket>();
  const log: CreditLogEntry[] = [];
  const push = (type: CreditLogEntry['type'], date: string, b: Bucket, amount: Dec, invoiceId?: string) =>
    log.push({
      type,
      date,
      bucketId: b.bucketId,
      grantId: b.grant.id,
      amountMinor: str(amount),
      ...(invoiceId ? { invoiceId } : {}),
    });

  for (const date of [...dates].sort()) {
    // 1. Expiries, and the rollovers they start.
    const rollovers: Bucket[] = [];
    for (const b of [...buckets.values()].sort(order)) {
      if (!b.open || b.expires === undefined || b.expires !== date) continue;
      b.open = false;
      const left = b.remaining;
      if (left.gt(0)) push('expiry', date, b, left);
      b.remaining = ZERO;
      const voidedOn = voidDate.get(b.grant.id);
      if (
        b.kind === 'occurrence' &&
        b.grant.rollover &&
        left.gt(0) &&
        (voidedOn === undefined || voidedOn > date)
      ) {
        const cap =
          b.grant.rollover.maxMinor === undefined ? left : min(left, dec(b.grant.rollover.maxMinor));
        const next = grantOccurrence(b.grant, b.occurrence + 1);
        const expires = next?.expires ?? addMonthsToDate(date, b.grant.recurrence?.everyMonths ?? 1);
        if (cap.gt(0))
          rollovers.push({
            bucketId: `${b.grant.id}#${b.occurrence}:rollover`,
            grant: b.grant,
            kind: 'rollover',
            occurrence: b.occurrence,
            effective: date,
            expires,
            granted: cap,
            remaining: cap,
            open: true,
          });
      }
    }
    // 2. New buckets.
    for (const r of rollovers) {
      buckets.set(r.bucketId, r);
      push('grant', date, r, r.granted);
    }
    for (const g of grants.values()) {
      const v = voidDate.get(g.id);
      for (let k = 0; ; k++) {
        const o = grantOccurrence(g, k);
        if (!o || o.effective > date) break;
        if (o.effective !== date || (v !== undefined && o.effective >= v)) continue;
        const amount = dec(g.amountMinor);
        const b: Bucket = {
          bucketId: g.recurrence ? `${g.id}#${k}` : g.id,
          grant: g,
          kind: g.recurrence ? 'occurrence' : 'grant',
          occurrence: k,
          effective: o.effective,
          ...(o.expires !== undefined ? { expires: o.expires } : {}),
          granted: amount,
          remaining: amount,
          open: o.expires === undefined || o.expires > date,
        };
        buckets.set(b.bucketId, b);
        push('grant', date, b, amount);
      }
    }
    // 3. Voids: the rest of every open bucket of the grant.
    for (const v of voids) {
      if (v.date !== date || voidDate.get(v.grantId) !== date) continue;
      for (const b of buckets.values()) {
        if (b.grant.id !== v.grantId || !b.open) continue;
        if (b.remaining.gt(0)) push('void', date, b, b.remaining);
        b.remaining = ZERO;
        b.open = false;
      }
      voidDate.set(v.grantId, `${date}~`); // applied once
    }
    // 4. Draws.
    for (const d of draws) {
      if (d.date !== date) continue;
      const b = buckets.get(d.bucketId);
      const amount = minorArg(d.amountMinor, `draws.${d.id}.amountMinor`);
      if (!b)
        throw ledgerError(`draw '${d.id}' names bucket '${d.bucketId}', which is not usable on ${date}`);
      if (amount.gt(b.remaining) || (!b.open && amount.gt(0)))
        throw ledgerError(
          `draw '${d.id}' takes ${str(amount)} of bucket '${d.bucketId}', which has ${str(b.remaining)} left on ${date}`,
        );
      b.remaining = b.remaining.minus(amount);
      push('draw', date, b, amount, d.invoiceId);
    }
  }
  return { buckets: [...buckets.values()], log: withRecords(log, entries) };
}

/** Names, on the derived log, the timer records of its expiries and occurrences (the balance ignores them). */
function withRecords(log: CreditLogEntry[], entries: readonly CreditEntry[]): CreditLogEntry[] {
  const records = new Map<string, string>();
  for (const e of entries)
    if (e.type === 'expiry' || e.type === 'recurrence')
      records.set(`${e.type === 'expiry' ? 'expiry' : 'grant'}|${e.bucketId}|${e.date}`, e.id);
  if (records.size === 0) return log;
  return log.map((l) => {
    const id = records.get(`${l.type}|${l.bucketId}|${l.date}`);
    return id === undefined ? l : { ...l, recorded: id };
  });
}

function view(b: Bucket): CreditBucket {
  return {
    bucketId: b.bucketId,
    grantId: b.grant.id,
    kind: b.kind,
    currency: b.grant.currency,
    priority: b.grant.priority ?? DEFAULT_CREDIT_PRIORITY,
    effective: b.effective,
    ...(b.expires !== undefined ? { expires: b.expires } : {}),
    grantedMinor: str(b.granted),
    remainingMinor: str(b.remaining),
  };
}

/** The balance on `asOf` (after everything dated `asOf`), with its derived log. */
export function creditBalance(
  entries: readonly CreditEntry[],
  currency: string,
  asOf: string,
): CreditBalance {
  const { buckets, log } = replayCredits(entries, currency, asOf);
  const sum = (type: CreditLogEntry['type']) =>
    log.filter((l) => l.type === type).reduce((s, l) => s.plus(l.amountMinor), ZERO);
  const usable = buckets.filter((b) => b.open && b.remaining.gt(0)).sort(order);
  return {
    asOf,
    currency,
    balanceMinor: str(usable.reduce((s, b) => s.plus(b.remaining), ZERO)),
    grantedMinor: str(sum('grant')),
    drawnMinor: str(sum('draw')),
    voidedMinor: str(sum('void')),
    expiredMinor: str(sum('expiry')),
    buckets: usable.map(view),
    log,
  };
}

/** Dates strictly inside `(from, to)` where a bucket starts or expires: where an invoice's credit segments split. */
export function creditBoundaries(
  entries: readonly CreditEntry[],
  currency: string,
  from: string,
  to: string,
): string[] {
  const { log, buckets } = replayCredits(entries, currency, to);
  const dates = new Set<string>();
  for (const l of log)
    if ((l.type === 'grant' || l.type === 'expiry') && l.date > from && l.date < to) dates.add(l.date);
  for (const b of buckets)
    if (b.expires !== undefined && b.expires > from && b.expires < to) dates.add(b.expires);
  return [...dates].sort();
}

/** The part of an invoice that credit may pay, by the dates it accrued in: `[from, to)`. */
export interface CreditSegment {
  from: string;
  to: string;
  amountMinor: string;
}

export interface CreditDraw {
  bucketId: string;
  grantId: string;
  /** The segment's first date: the draw is dated there, so it comes before any expiry in the segment's end. */
  date: string;
  segmentTo: string;
  amountMinor: string;
}

/**
 * Draws credit for an invoice, segment by segment: each segment's amount from the buckets usable on
 * the whole segment (started by `from`, not expired before `to`), in draw order. Returns the draws and
 * their ledger entries (ids derived from the invoice, so a retried write writes the same entries).
 */
export function drawCredits(
  entries: readonly CreditEntry[],
  currency: string,
  segments: readonly CreditSegment[],
  invoiceId: string,
): { draws: CreditDraw[]; entries: CreditEntry[]; drawnMinor: string } {
  const added: CreditEntry[] = [];
  const draws: CreditDraw[] = [];
  let drawn = ZERO;
  // Invoices draw in date order: a draw dated before one already in the ledger could leave that later
  // draw (or a rollover it used) short. Periods close in order, so this only fires on a bug or a
  // hand-made ledger; it is refused rather than silently re-ordered.
  const latest = entries.reduce((d, e) => (e.type === 'draw' && e.date > d ? e.date : d), '');
  const first = segments.find((s) => minorArg(s.amountMinor, 'segments.amountMinor').gt(0));
  if (first && latest > first.from)
    throw ledgerError(
      `credit for ${first.from} would be drawn before a draw already dated ${latest}: invoices draw in period order`,
    );
  for (const seg of segments) {
    let want = minorArg(seg.amountMinor, 'segments.amountMinor');
    if (!want.gt(0)) continue;
    const { buckets } = replayCredits([...entries, ...added], currency, seg.from);
    const usable = buckets
      .filter((b) => b.open && b.remaining.gt(0) && (b.expires === undefined || b.expires >= seg.to))
      .sort(order);
    for (const b of usable) {
      if (!want.gt(0)) break;
      const take = min(want, b.remaining);
      want = want.minus(take);
      drawn = drawn.plus(take);
      const draw: CreditDraw = {
        bucketId: b.bucketId,
        grantId: b.grant.id,
        date: seg.from,
        segmentTo: seg.to,
        amountMinor: str(take),
      };
      draws.push(draw);
      added.push({
        type: 'draw',
        id: `${invoiceId}/${b.bucketId}/${seg.from}`,
        bucketId: b.bucketId,
        grantId: b.grant.id,
        date: seg.from,
        amountMinor: str(take),
        invoiceId,
      });
    }
  }
  return { draws, entries: added, drawnMinor: str(drawn) };
}

/**
 * Splits what credit may pay (`creditableMinor`, after discounts) over the segments of a period in
 * proportion to what accrued in each (`accruedMinor`: the charges priced up to the segment's end minus
 * up to its start), exactly. A segment where nothing accrued gets nothing.
 */
export function creditSegmentsFromAccrual(
  creditableMinor: string,
  accrued: ReadonlyArray<{ from: string; to: string; accruedMinor: string }>,
): CreditSegment[] {
  if (accrued.length === 0) return [];
  const total = minorArg(creditableMinor, 'creditableMinor');
  const weights = accrued.map((a) => {
    const w = minorArg(a.accruedMinor, 'accruedMinor');
    return w.gt(0) ? w : ZERO;
  });
  // Nothing accrued anywhere (say only a minimum true-up, decided at the period's end): the last segment.
  if (weights.every((w) => w.isZero())) weights[weights.length - 1] = new D(1);
  const parts = allocate(total, weights);
  return accrued.map((a, i) => ({ from: a.from, to: a.to, amountMinor: str(parts[i]) }));
}
