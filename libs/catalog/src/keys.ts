/**
 * Layout of the catalog bucket. KV keys are NATS subjects: tokens separated by dots, each of
 * `[-/_=a-zA-Z0-9]`. Tenant ids, meter keys and entity ids are restricted to safe characters by their
 * schemas; customer external ids can hold anything, so they are base64url-encoded (no padding).
 *
 *     tenant.<tenant>
 *     customer.<tenant>.<base64url(customer id)>
 *     meter.<tenant>.<meter key>                  current definition
 *     meter_version.<tenant>.<meter key>.<n>      every version ever current (immutable)
 *     plan.<tenant>.<plan id>
 *     subscription.<tenant>.<subscription id>
 *     alert_rule.<tenant>.<rule id>
 *     dataset.<tenant>.<dataset name>             Analytics Engine datasets
 *
 * The API-key bucket holds one key per API key: the lower-case hex SHA-256 of the raw key.
 */
export const KEY_KINDS = [
  'tenant',
  'customer',
  'meter',
  'meter_version',
  'plan',
  'subscription',
  'alert_rule',
  'dataset',
] as const;
export type KeyKind = (typeof KEY_KINDS)[number];

export function encodeCustomerId(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

export function decodeCustomerId(token: string): string {
  return Buffer.from(token, 'base64url').toString('utf8');
}

export const catalogKeys = {
  tenant: (tenant: string) => `tenant.${tenant}`,
  tenants: () => 'tenant.*',
  customer: (tenant: string, id: string) => `customer.${tenant}.${encodeCustomerId(id)}`,
  customers: (tenant: string) => `customer.${tenant}.*`,
  meter: (tenant: string, key: string) => `meter.${tenant}.${key}`,
  meters: (tenant: string) => `meter.${tenant}.*`,
  meterVersion: (tenant: string, key: string, version: number) => `meter_version.${tenant}.${key}.${version}`,
  meterVersions: (tenant: string, key: string) => `meter_version.${tenant}.${key}.*`,
  plan: (tenant: string, id: string) => `plan.${tenant}.${id}`,
  plans: (tenant: string) => `plan.${tenant}.*`,
  subscription: (tenant: string, id: string) => `subscription.${tenant}.${id}`,
  subscriptions: (tenant: string) => `subscription.${tenant}.*`,
  alertRule: (tenant: string, id: string) => `alert_rule.${tenant}.${id}`,
  alertRules: (tenant: string) => `alert_rule.${tenant}.*`,
  dataset: (tenant: string, name: string) => `dataset.${tenant}.${name}`,
  datasets: (tenant: string) => `dataset.${tenant}.*`,
  /**
   * Filters for what a tenant owns besides its own record, except meter versions (kept after a meter is
   * deleted, for invoices, so they do not keep a tenant from being deleted).
   */
  ownedBy: (tenant: string) =>
    KEY_KINDS.filter((k) => k !== 'tenant' && k !== 'meter_version').map((k) => `${k}.${tenant}.>`),
};

export type ParsedKey =
  | { kind: 'tenant'; tenant: string }
  | { kind: 'customer'; tenant: string; id: string }
  | { kind: 'meter'; tenant: string; key: string }
  | { kind: 'meter_version'; tenant: string; key: string; version: number }
  | { kind: 'plan' | 'subscription' | 'alert_rule' | 'dataset'; tenant: string; id: string };

/** The entity a catalog key names, or undefined for a key this version does not know. */
export function parseCatalogKey(key: string): ParsedKey | undefined {
  const t = key.split('.');
  switch (t[0]) {
    case 'tenant':
      return t.length === 2 ? { kind: 'tenant', tenant: t[1] } : undefined;
    case 'customer':
      return t.length === 3 ? { kind: 'customer', tenant: t[1], id: decodeCustomerId(t[2]) } : undefined;
    case 'meter':
      return t.length === 3 ? { kind: 'meter', tenant: t[1], key: t[2] } : undefined;
    case 'meter_version':
      return t.length === 4 && /^\d+$/.test(t[3])
        ? { kind: 'meter_version', tenant: t[1], key: t[2], version: Number(t[3]) }
        : undefined;
    case 'plan':
    case 'subscription':
    case 'alert_rule':
    case 'dataset':
      return t.length === 3 ? { kind: t[0], tenant: t[1], id: t[2] } : undefined;
    default:
      return undefined;
  }
}
