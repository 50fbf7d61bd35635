/**
 * Every SQL query of the seeds (Cloudflare's "Usage-based billing" how-to, two versions), copied
 * verbatim: the SQL API must run each one unchanged.
 */

/** Seed 000 (the how-to's first version: blobs written as an object { customer_id, request_endpoint }). */
export const SEED_000_QUERIES = {
  usageByCustomer: `SELECT
  blob1 AS customer_id,
  sum(_sample_interval) AS count
FROM
  usage_indexed_by_customer_id
GROUP BY customer_id`,
  usageByCustomerAndEndpoint: `SELECT
  blob1 AS customer_id,
  blob2 AS request_endpoint,
  sum(_sample_interval) AS count
FROM
  usage_indexed_by_customer_id
GROUP BY customer_id, request_endpoint`,
} as const;

/** Seed 001 (the current version: index1 is the customer, blob1 the path). */
export const SEED_001_QUERIES = {
  usageByCustomer: `SELECT
index1 AS customer_id,
sum(_sample_interval) AS count
FROM
usage_indexed_by_customer_id
GROUP BY customer_id`,
  usageByCustomerAndEndpoint: `SELECT
index1 AS customer_id,
blob1 AS request_endpoint,
sum(_sample_interval) AS count
FROM
usage_indexed_by_customer_id
GROUP BY customer_id, request_endpoint`,
  monthlyBillForCustomer: `SELECT
index1 AS customer_id,
blob1 AS request_endpoint,
sum(_sample_interval) AS usage_count
FROM
usage_indexed_by_customer_id
WHERE
customer_id = 'substitute_customer_id_here'
AND timestamp >= toDateTime('2023-03-01 00:00:00')
AND timestamp < toDateTime('2023-04-01 00:00:00')
GROUP BY customer_id, request_endpoint`,
  dailyBillForCustomer: `SELECT
index1 AS customer_id,
toStartOfInterval(timestamp, INTERVAL '1' DAY) AS date,
blob1 AS request_endpoint,
sum(_sample_interval) AS request_count
FROM
usage_indexed_by_customer_id
WHERE
customer_id = 'x'
AND timestamp >= toDateTime('2023-03-01 00:00:00')
AND timestamp < toDateTime('2023-04-01 00:00:00')
GROUP BY customer_id, date, request_endpoint`,
} as const;
