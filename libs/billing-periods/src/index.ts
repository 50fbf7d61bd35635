/**
 * `@tally/billing-periods`: the one billing-period rule (anchor days, proration shares, the usage API's
 * current period) and the local-calendar arithmetic it rests on. Pure: no clock, no I/O.
 */
export * from './calendar';
export * from './periods';
