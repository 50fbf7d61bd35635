/** Every JSON example in docs/catalog.md and docs/meters.md must be valid, so the docs cannot drift. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { filterSchema } from '@tally/metering';
import {
  alertRuleSchema,
  apiKeyRecordSchema,
  customerSchema,
  meterInputSchema,
  parseEntity,
  planSchema,
  subscriptionSchema,
  tenantSchema,
} from './entities';

const root = path.resolve(__dirname, '../../..');

function jsonBlocks(doc: string): unknown[] {
  const text = readFileSync(path.join(root, 'docs', doc), 'utf8');
  return [...text.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]));
}

function schemaFor(example: Record<string, unknown>) {
  if ('eventTypes' in example) return meterInputSchema;
  if ('charges' in example) return planSchema;
  if ('threshold' in example) return alertRuleSchema;
  if ('plan' in example) return subscriptionSchema;
  if ('role' in example) return apiKeyRecordSchema;
  if ('operator' in example) return filterSchema;
  if ('currency' in example) return tenantSchema;
  return customerSchema;
}

describe.each(['catalog.md', 'meters.md'])('docs/%s examples', (doc) => {
  const examples = jsonBlocks(doc) as Array<Record<string, unknown>>;

  it('has examples', () => {
    expect(examples.length).toBeGreaterThan(0);
  });

  it.each(examples.map((e, i) => [i, e] as const))('example %d is valid', (_i, example) => {
    expect(() => parseEntity(schemaFor(example), example, 'example')).not.toThrow();
  });
});
