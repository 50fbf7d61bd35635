import { ValidationFailedError, type FieldIssue } from '@tally/errors';
import { detectEventFormat, normalizeBatch } from './normalize';

const NOW = Date.parse('2023-10-01T12:03:00.000Z');

function issuesOf(body: unknown, billingrailsCustomerProperty?: string): FieldIssue[] {
  try {
    normalizeBatch(body, 'auto', { nowMs: NOW, generateId: () => 'gen', billingrailsCustomerProperty });
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationFailedError);
    return (e as ValidationFailedError).details;
  }
  throw new Error('expected the body to be rejected');
}

/** Billingrails' own example event (seed 003), without `event_name`. */
const billingrailsWithoutName = {
  properties: { song_id: '12345', duration: 240, billingrails_account_id: 'acct_67890' },
  idempotency_key: 'unique_event_id_12345',
  timestamp: '2023-10-01T12:00:00Z',
};

describe('format detection names the format and the field that decided it', () => {
  it('reads a Billingrails event without event_name as Billingrails, by its customer property', () => {
    expect(detectEventFormat(billingrailsWithoutName)).toEqual({
      format: 'billingrails',
      decidedBy: 'properties.billingrails_account_id',
    });
    expect(issuesOf({ events: [billingrailsWithoutName] })).toEqual([
      {
        index: 0,
        field: 'event_name',
        code: 'EVENT_TYPE_MISSING',
        message:
          'event_name (the event type) is required (format billingrails, detected by field properties.billingrails_account_id)',
      },
    ]);
  });

  it('says event_name decided when it is there and something else is wrong', () => {
    const [issue] = issuesOf([{ event_name: 'Song played', properties: {} }]);
    expect(issue).toMatchObject({
      index: 0,
      field: 'properties.billingrails_account_id',
      code: 'CUSTOMER_MISSING',
    });
    expect(issue.message).toMatch(/\(format billingrails, detected by field event_name\)$/);
  });

  it('follows a configured Billingrails customer property', () => {
    const event = { properties: { account: 'acct_1' } };
    expect(detectEventFormat(event, undefined, 'account')).toEqual({
      format: 'billingrails',
      decidedBy: 'properties.account',
    });
    expect(detectEventFormat(event)).toEqual({ format: 'native' });
    expect(issuesOf([event], 'account')[0].message).toMatch(/detected by field properties\.account\)$/);
  });

  it('names specversion for CloudEvents and the Content-Type when that decided', () => {
    expect(detectEventFormat({ specversion: '1.0' })).toEqual({
      format: 'cloudevents',
      decidedBy: 'specversion',
    });
    expect(detectEventFormat({}, 'application/cloudevents+json')).toEqual({
      format: 'cloudevents',
      decidedBy: 'Content-Type',
    });
    const [issue] = issuesOf([{ specversion: '1.0', id: 'e1', source: 's' }]);
    expect(issue.message).toMatch(/\(format cloudevents, detected by field specversion\)$/);
  });

  it('leaves native errors as they were: nothing decided, native is the default', () => {
    expect(detectEventFormat({ customerId: 'c' })).toEqual({ format: 'native' });
    const issues = issuesOf([{ customerId: 'c', properties: { other: 'x' } }]);
    expect(issues).toEqual([
      {
        index: 0,
        field: 'metricName',
        code: 'EVENT_TYPE_MISSING',
        message: 'metricName (the event type) is required',
      },
    ]);
  });
});
