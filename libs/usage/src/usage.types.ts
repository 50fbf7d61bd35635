import type { UsagePeriod } from '@tally/billing-periods';
import type { Filter, WindowSize } from '@tally/metering';
import type { LimitSource } from './entitlements';

/** Where an answer was computed: the hourly roll-up, a scan of `events`, or both (several meters). */
export type UsageSource = 'rollup' | 'events' | 'mixed';

export interface MeterQueryRequest {
  meter: string;
  profile?: string;
  from: Date;
  to: Date;
  window: WindowSize;
  /** IANA zone of hour/day/month windows; default: the one customer's zone, else the tenant's. */
  timezone?: string;
  customers?: string[];
  /** One row per customer (implied when `customers` is given). */
  perCustomer?: boolean;
  groupBy?: string[];
  filters?: Filter[];
  /** Most rows accepted; more is `RESULT_TOO_LARGE`. Default and maximum: `maxResultRows`. */
  limit?: number;
}

export interface MeterQueryRow {
  windowStart: string;
  windowEnd: string;
  customer?: string;
  groups: Record<string, string>;
  value: string;
}

export interface MeterQueryResult {
  meter: string;
  profile: string | null;
  series: string;
  aggregation: string;
  from: string;
  to: string;
  window: WindowSize;
  timezone: string;
  source: UsageSource;
  rows: MeterQueryRow[];
}

export interface DayUsage {
  /** Local calendar date `YYYY-MM-DD` in the response's zone. */
  date: string;
  start: string;
  end: string;
  value: string;
}

export interface SeriesUsage {
  series: string;
  meter: string;
  profile: string | null;
  name: string;
  aggregation: string;
  total: string;
  days?: DayUsage[];
}

export interface CustomerUsageResult {
  customer: string;
  timezone: string;
  from: string;
  to: string;
  source: UsageSource;
  usage: SeriesUsage[];
}

export interface PeriodInfo {
  from: string;
  to: string;
  timezone: string;
  source: UsagePeriod['source'];
  subscription: string | null;
  plan: string | null;
}

export interface CurrentUsageResult {
  customer: string;
  period: PeriodInfo;
  source: UsageSource;
  usage: SeriesUsage[];
}

export interface TopCustomersResult {
  meter: string;
  profile: string | null;
  series: string;
  from: string;
  to: string;
  source: UsageSource;
  customers: Array<{ customer: string; value: string }>;
}

export interface EntitlementResult {
  customer: string;
  series: string;
  meter: string;
  profile: string | null;
  usage: string;
  limit: string | null;
  allowed: boolean;
  limitSource: LimitSource | null;
  period: PeriodInfo;
  /** A customer with prepaid credit: its balance today in its zone (the tenant's currency). */
  credit?: { currency: string; balanceMinor: string; asOf: string };
  /**
   * A customer with unit grants on the meter: the units they still hold today in its zone. Shown beside
   * the limit, not added to it: the grants pay for usage the plan would price, they do not raise an
   * allowance (docs/finance.md#unit-grants).
   */
  unitGrants?: { meter: string; balanceUnits: string; asOf: string };
}

/** `GET /v1/usage/completeness`: up to when the tenant's acknowledged events are all queryable. */
export interface CompletenessResult {
  /**
   * Every event of the tenant that the gateway acknowledged (202 or the NATS reply) before this instant
   * is stored and counted by every usage query, roll-ups included (dead-lettered events excepted).
   */
  completeThrough: string;
  /** True when nothing of the tenant is waiting to be stored (then `completeThrough` is `checkedAt`). */
  upToDate: boolean;
  /** `checkedAt − completeThrough` in milliseconds: how far behind the writers are for this tenant. */
  lagMs: number;
  checkedAt: string;
}
