#!/bin/bash
# docker-compose.yml mounts this into the ClickHouse image's /docker-entrypoint-initdb.d/: it runs once,
# on a new data volume, as the administrator `tally` (CLICKHOUSE_USER). It creates what
# tools/infra/clickhouse/users.xml.tmpl declares for the embedded 18.16 server, in the SQL a modern server
# takes (docs/security.md#clickhouse):
#   tally_writer, tally_query, tally_billing  one user per service (reads, writes, migrations of database tally)
#   tally_reader                              tenants' queries (SQL API, usage): read-only, settings profile
#                                             with limits the query cannot raise (MAX constraints), quota
# Passwords come from the container's environment (docker-compose.yml, from .env).
set -euo pipefail

: "${TALLY_CLICKHOUSE_WRITER_PASSWORD:?}" "${TALLY_CLICKHOUSE_QUERY_PASSWORD:?}"
: "${TALLY_CLICKHOUSE_BILLING_PASSWORD:?}" "${TALLY_CLICKHOUSE_READER_PASSWORD:?}"

# SQL string literal: backslashes and quotes escaped.
lit() { printf "'%s'" "$(printf '%s' "$1" | sed -e "s/\\\\/\\\\\\\\/g" -e "s/'/\\\\'/g")"; }

clickhouse client --user "$CLICKHOUSE_USER" --password "$CLICKHOUSE_PASSWORD" --multiquery <<SQL
CREATE DATABASE IF NOT EXISTS tally;

CREATE USER IF NOT EXISTS tally_writer IDENTIFIED WITH sha256_password BY $(lit "$TALLY_CLICKHOUSE_WRITER_PASSWORD");
CREATE USER IF NOT EXISTS tally_query IDENTIFIED WITH sha256_password BY $(lit "$TALLY_CLICKHOUSE_QUERY_PASSWORD");
CREATE USER IF NOT EXISTS tally_billing IDENTIFIED WITH sha256_password BY $(lit "$TALLY_CLICKHOUSE_BILLING_PASSWORD");
GRANT ALL ON tally.* TO tally_writer, tally_query, tally_billing;

CREATE SETTINGS PROFILE IF NOT EXISTS tally_reader SETTINGS
  readonly = 2,
  max_memory_usage = 1073741824 MAX 1073741824,
  max_bytes_to_read = 10737418240 MAX 10737418240,
  max_rows_to_read = 200000000 MAX 200000000,
  max_result_rows = 1000000 MAX 1000000,
  max_result_bytes = 268435456 MAX 268435456,
  max_execution_time = 60 MAX 60;
CREATE QUOTA IF NOT EXISTS tally_reader FOR INTERVAL 1 minute
  MAX queries = 60000, read_rows = 20000000000, execution_time = 1200;
CREATE USER IF NOT EXISTS tally_reader IDENTIFIED WITH sha256_password BY $(lit "$TALLY_CLICKHOUSE_READER_PASSWORD")
  SETTINGS PROFILE 'tally_reader';
ALTER QUOTA tally_reader TO tally_reader;
GRANT SELECT ON tally.* TO tally_reader;
SQL
