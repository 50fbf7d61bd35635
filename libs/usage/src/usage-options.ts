import { WebhookDestinationPolicy } from '@tally/catalog';
import { type ConfigOf, env } from '@tally/config';
import { z } from 'zod';

/** Tunables of the usage API and the alert evaluator. Every field has a default (`USAGE_DEFAULTS`). */
export interface UsageOptions {
  /** Longest `[from, to)` one query may cover, in days. */
  maxRangeDays: number;
  /** Most rows one answer may have (meter query rows, top customers, days × series). */
  maxResultRows: number;
  /** ClickHouse `max_execution_time` of every usage query, whole seconds. */
  queryTimeoutSeconds: number;
  /** Use the hourly roll-ups where they give the same answer as a scan. */
  rollups: boolean;
  /** How often the roll-up coverage check runs (ms). */
  rollupCheckIntervalMs: number;
  /** How often alert rules are evaluated (ms); 0 = never (e.g. a read-only replica). */
  alertIntervalMs: number;
  /** Webhook delivery: attempts in all, first back-off (doubling, with jitter), per-attempt timeout. */
  webhookMaxAttempts: number;
  webhookBackoffMs: number;
  webhookTimeoutMs: number;
  /** A claimed alert still undelivered after this long (its instance died) is delivered by another. */
  alertClaimTimeoutMs: number;
  /**
   * The operator's exceptions to the webhook destination rules (docs/security.md#webhooks): CIDR ranges
   * or addresses that webhooks may reach although they are loopback, private or link-local.
   */
  webhookAllow: string[];
}

export const USAGE_DEFAULTS: UsageOptions = {
  maxRangeDays: 400,
  maxResultRows: 10_000,
  queryTimeoutSeconds: 10,
  rollups: true,
  rollupCheckIntervalMs: 60_000,
  alertIntervalMs: 30_000,
  webhookMaxAttempts: 6,
  webhookBackoffMs: 1_000,
  webhookTimeoutMs: 5_000,
  alertClaimTimeoutMs: 5 * 60_000,
  webhookAllow: [],
};

/**
 * Environment keys for `UsageOptions`, to spread into an app's config spec (`loadConfig` then reports
 * every bad key at once): `{ ...queryConfigSpec, ...usageConfigSpec }`.
 */
export const usageConfigSpec = {
  usageMaxRangeDays: env.int(
    'USAGE_MAX_RANGE_DAYS',
    USAGE_DEFAULTS.maxRangeDays,
    1,
    36_600,
    'longest range of one usage query, days',
  ),
  usageMaxResultRows: env.int(
    'USAGE_MAX_RESULT_ROWS',
    USAGE_DEFAULTS.maxResultRows,
    1,
    1_000_000,
    'most rows of one usage answer',
  ),
  usageQueryTimeoutSeconds: env.int(
    'USAGE_QUERY_TIMEOUT_S',
    USAGE_DEFAULTS.queryTimeoutSeconds,
    1,
    3_600,
    'ClickHouse max_execution_time of usage queries',
  ),
  usageRollups: env.bool(
    'USAGE_ROLLUPS',
    USAGE_DEFAULTS.rollups,
    'answer from the hourly roll-ups where they are exact',
  ),
  usageAlertIntervalMs: env.int(
    'USAGE_ALERT_INTERVAL_MS',
    USAGE_DEFAULTS.alertIntervalMs,
    0,
    86_400_000,
    'alert evaluation interval (0 = off)',
  ),
  usageWebhookMaxAttempts: env.int(
    'USAGE_WEBHOOK_MAX_ATTEMPTS',
    USAGE_DEFAULTS.webhookMaxAttempts,
    1,
    100,
    'alert webhook attempts',
  ),
  webhookAllow: {
    env: 'TALLY_WEBHOOK_ALLOW',
    schema: z
      .string()
      .default('')
      .superRefine((v, ctx) => {
        try {
          WebhookDestinationPolicy.parse(v);
        } catch (error) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, message: (error as Error).message });
        }
      }),
    description: 'webhook destinations allowed although not public: CIDR ranges or addresses, comma-separated',
  },
};

/** `UsageOptions` from a config loaded with `usageConfigSpec` (keys it does not have are left out). */
export function usageOptionsFromConfig(
  config: Partial<ConfigOf<typeof usageConfigSpec>>,
): Partial<UsageOptions> {
  const options: Partial<UsageOptions> = {
    maxRangeDays: config.usageMaxRangeDays,
    maxResultRows: config.usageMaxResultRows,
    queryTimeoutSeconds: config.usageQueryTimeoutSeconds,
    rollups: config.usageRollups,
    alertIntervalMs: config.usageAlertIntervalMs,
    webhookMaxAttempts: config.usageWebhookMaxAttempts,
    webhookAllow: config.webhookAllow === undefined ? undefined : WebhookDestinationPolicy.parse(config.webhookAllow).allow.slice(),
  };
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}
