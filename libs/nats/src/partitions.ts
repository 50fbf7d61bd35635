/**
 * The partition of a customer's events: FNV-1a (32 bits) of `tenant NUL customer`, modulo the
 * partition count. One rule for the gateway (which subject it publishes to) and for the writer and
 * ClickHouse cluster layout (a partition's events land on one shard). The count must stay fixed
 * for a stream while it holds messages: changing it moves customers to other partitions, so two
 * writers could hold one customer's events at once (docs/scaling.md says how to change it).
 */
export function eventPartition(tenant: string, customer: string, partitions: number): number {
  if (partitions <= 1) return 0;
  let hash = 0x811c9dc5;
  const mix = (code: number) => {
    hash ^= code;
    hash = Math.imul(hash, 0x01000193);
  };
  for (let i = 0; i < tenant.length; i++) mix(tenant.charCodeAt(i));
  mix(0);
  for (let i = 0; i < customer.length; i++) mix(customer.charCodeAt(i));
  return (hash >>> 0) % partitions;
}

/** Most partitions a stream may have (each is a durable consumer and a lease). */
export const MAX_EVENT_PARTITIONS = 1024;
