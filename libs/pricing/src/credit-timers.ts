/**
 * The timers of one credit grant (docs/finance.md#expiry-and-recurrence-timers): which of its expiries
 * and occurrences have come by a local date, under which record ids, and the next date one comes.
 *
 * A grant's timer workflow sleeps until that next date, then records what came. Record ids are derived
 * from the grant, the occurrence and the event, so recording twice (a retried activity, a restarted
 * worker, the workflow started again) finds the record already there. Records never change the balance
 * (see `CreditTimerRecord`): this is the same replay the balance and the invoices use, asked about one
 * grant.
 */
import { grantOccurrence, replayCredits, type CreditEntry, type CreditGrant } from './credits';

export interface CreditTimerEvent {
  kind: 'expiry' | 'recurrence';
  /** The record's id: `<grant>__expiry`, `<grant>__<k>__expiry`, `<grant>__<k>__rollover__expiry`, `<grant>__<k>__recurrence`. */
  entryId: string;
  bucketId: string;
  /** The local date it comes on (the bucket's `expires`, the occurrence's `effective`). */
  date: string;
}

export interface CreditGrantTimers {
  /** The grant (undefined: no grant of this id in the ledger). */
  grant?: CreditGrant;
  /** Everything that came by `asOf`, in date order, recorded or not. */
  due: CreditTimerEvent[];
  /** The next local date after `asOf` something comes; absent when nothing more will (ended, voided, no expiry). */
  next?: string;
}

/** The record id of an event of a bucket (`g`, `g#k`, `g#k:rollover`). */
export function creditTimerEntryId(kind: CreditTimerEvent['kind'], bucketId: string): string {
  return `${bucketId.replace('#', '__').replace(':rollover', '__rollover')}__${kind}`;
}

/**
 * The expiries and occurrences of grant `grantId` that came by local date `asOf`, and the next date
 * after it. Expiries of buckets voided before their date do not come (the void took their rest); an
 * expiry on the void's own date does (expiries come first on a date, as in the replay).
 */
export function creditGrantTimers(
  entries: readonly CreditEntry[],
  grantId: string,
  asOf: string,
): CreditGrantTimers {
  const grant = entries.find(
    (e): e is Extract<CreditEntry, { type: 'grant' }> => e.type === 'grant' && e.grant.id === grantId,
  )?.grant;
  if (!grant) return { due: [] };
  let voidDate: string | undefined;
  for (const e of entries)
    if (e.type === 'void' && e.grantId === grantId && (voidDate === undefined || e.date < voidDate))
      voidDate = e.date;
  const comes = (date: string) => voidDate === undefined || date <= voidDate;

  const due: CreditTimerEvent[] = [];
  const later = new Set<string>();
  const { buckets } = replayCredits(entries, grant.currency, asOf);
  for (const b of buckets) {
    if (b.grant.id !== grantId) continue;
    if (b.kind === 'occurrence' && b.occurrence > 0)
      due.push({
        kind: 'recurrence',
        entryId: creditTimerEntryId('recurrence', b.bucketId),
        bucketId: b.bucketId,
        date: b.effective,
      });
    if (b.expires === undefined || !comes(b.expires)) continue;
    if (b.expires <= asOf)
      due.push({
        kind: 'expiry',
        entryId: creditTimerEntryId('expiry', b.bucketId),
        bucketId: b.bucketId,
        date: b.expires,
      });
    else later.add(b.expires);
  }
  // Occurrences still to come (and, for a one-off grant, its expiry if it has not started yet).
  for (let k = 0; ; k++) {
    const o = grantOccurrence(grant, k);
    if (!o || !comes(o.effective)) break;
    if (o.effective > asOf) {
      later.add(o.effective);
      break;
    }
    if (o.expires !== undefined && o.expires > asOf && comes(o.expires)) later.add(o.expires);
  }
  due.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.entryId < b.entryId ? -1 : 1));
  const next = [...later].sort()[0];
  return { grant, due, ...(next !== undefined ? { next } : {}) };
}
