import { BILLING_WORKFLOWS, LATE_EVENTS_SIGNAL, PROGRESS_QUERY } from '@tally/billing';
import { searchAttributes } from '@tally/temporal';
import * as workflows from './index';
import {
  billingSearchAttributes,
  LATE_EVENTS_SIGNAL as WORKFLOW_SIGNAL,
  PROGRESS_QUERY as WORKFLOW_QUERY,
} from './search-attributes';

/** The starters (writer, query API, schedules) name workflows, signals and attributes by string. */
describe('contracts between the workflows and the code that starts them', () => {
  it('every workflow type a starter names is exported by the workflow bundle', () => {
    for (const name of Object.values(BILLING_WORKFLOWS))
      expect(typeof (workflows as Record<string, unknown>)[name]).toBe('function');
  });

  it('signal and query names agree', () => {
    expect(WORKFLOW_SIGNAL).toBe(LATE_EVENTS_SIGNAL);
    expect(WORKFLOW_QUERY).toBe(PROGRESS_QUERY);
  });

  it('search attributes agree with the ones registered on the server', () => {
    expect(billingSearchAttributes).toEqual(searchAttributes);
  });
});
