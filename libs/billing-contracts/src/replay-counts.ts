import type { DeadLetterReplayCounts } from './inputs';

export function emptyReplayCounts(): DeadLetterReplayCounts {
  return { scanned: 0, matched: 0, replayed: 0, alreadyReplayed: 0, stillInvalid: {}, notReplayable: 0 };
}

/** The counts of two pages (or runs) of a dead-letter replay together. */
export function addReplayCounts(
  a: DeadLetterReplayCounts,
  b: DeadLetterReplayCounts,
): DeadLetterReplayCounts {
  const stillInvalid = { ...a.stillInvalid };
  for (const [reason, n] of Object.entries(b.stillInvalid))
    stillInvalid[reason] = (stillInvalid[reason] ?? 0) + n;
  return {
    scanned: a.scanned + b.scanned,
    matched: a.matched + b.matched,
    replayed: a.replayed + b.replayed,
    alreadyReplayed: a.alreadyReplayed + b.alreadyReplayed,
    stillInvalid,
    notReplayable: a.notReplayable + b.notReplayable,
  };
}
