/**
 * The parity suite's set-up: one database `t_<random>` on the running ClickHouse 18.16 and the same
 * database in a chDB 26.7 session of its own, both given the schema Tally renders for a single server,
 * and a `DualClickHouse` handle over the two.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { createClickHouse, identifier, raw, renderMigrations, sql, type ClickHouse } from '@tally/clickhouse';
import { ChdbEngine, DualClickHouse, ParityLedger } from './engines';

export interface ParitySuite {
  database: string;
  legacy: ClickHouse;
  modern: ChdbEngine;
  ch: DualClickHouse;
  ledger: ParityLedger;
  /** The statements of the single-server schema render, in order. */
  schemaStatements: string[];
  close(): Promise<void>;
}

/** The statements of `renderMigrations` output: split at `;` line ends, comment lines dropped. */
export function splitRender(text: string): string[] {
  return text
    .split(/;\n/)
    .map((block) =>
      block
        .split('\n')
        .filter((line) => !line.startsWith('--'))
        .join('\n')
        .trim(),
    )
    .filter((statement) => statement !== '');
}

export async function startParitySuite(): Promise<ParitySuite> {
  const database = `t_${randomBytes(8).toString('hex')}`;
  const legacy = createClickHouse({
    url: process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123',
    username: process.env.CLICKHOUSE_USER ?? 'default',
    password: process.env.CLICKHOUSE_PASSWORD ?? '',
    database,
    // Generous: the suite runs hundreds of queries on a 2-core machine that may be busy with other work.
    requestTimeoutMs: 300_000,
  });
  const modern = new ChdbEngine(resolve(__dirname, '../../.data/parity', database));
  const ledger = new ParityLedger();
  const ch = new DualClickHouse(legacy, modern, ledger);
  const schemaStatements = splitRender(renderMigrations({ database }));
  return {
    database,
    legacy,
    modern,
    ch,
    ledger,
    schemaStatements,
    async close() {
      try {
        await legacy.command(sql`DROP DATABASE IF EXISTS ${identifier(database)}`);
      } finally {
        await legacy.close();
        modern.close();
      }
    },
  };
}

/** Applies the schema render on both engines through the dual handle (each statement compared). */
export async function applySchema(suite: ParitySuite): Promise<void> {
  suite.ledger.label = 'schema render';
  for (const statement of suite.schemaStatements) await suite.ch.command(raw(statement));
}
