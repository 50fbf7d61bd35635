import { BILLING_WORKFLOWS } from '@tally/billing-contracts';
import * as workflows from './index';

/** The starters (writer, query API, schedules) name workflows by string. */
describe('contracts between the workflows and the code that starts them', () => {
  it('every workflow type a starter names is exported by the workflow bundle', () => {
    for (const name of Object.values(BILLING_WORKFLOWS))
      expect(typeof (workflows as Record<string, unknown>)[name]).toBe('function');
  });
});
