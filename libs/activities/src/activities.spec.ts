import { ApplicationFailure } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { InvoiceNotYetIssuedError, type BillingServices, type DeadLetterReplayer } from '@tally/billing';
import { UnavailableError, ValidationFailedError } from '@tally/errors';
import { createBillingActivities } from './billing.activities';
import { createEchoActivities } from './echo.activities';

/** A fake with the methods of several billing services, standing in for each of them. */
type FakeServices = Record<string, unknown>;
function services(fake: FakeServices): BillingServices {
  return { due: fake, closer: fake, issuer: fake, rebiller: fake } as unknown as BillingServices;
}

type CloseAndIssued = Awaited<ReturnType<ReturnType<typeof createBillingActivities>['closeAndIssue']>>;

/** Billing services whose every method runs `behaviour` (the activities are thin adapters). */
function activitiesFailingWith(error: unknown) {
  const fail = async () => {
    throw error;
  };
  const invoicing = { dueCustomers: fail, issueInvoices: fail, rebill: fail } as FakeServices;
  const replayer = { replayPage: fail } as unknown as DeadLetterReplayer;
  return createBillingActivities({ billing: services(invoicing), replayer });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

describe('billing activities: which failures Temporal retries', () => {
  const details = [{ field: 'plan', code: 'UNKNOWN_PLAN', message: "plan 'x' does not exist" }];

  it('turns a business refusal (a 4xx TallyError) into a non-retryable failure with its code and details', async () => {
    const activities = activitiesFailingWith(new ValidationFailedError(details, 'refused'));
    for (const call of [
      () => activities.dueCustomers({} as never),
      () => activities.issueInvoices({} as never),
      () => activities.rebill({} as never),
      () => activities.replayDeadLetterPage({} as never),
    ]) {
      const failure = await rejection(call());
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure).toMatchObject({
        nonRetryable: true,
        type: 'VALIDATION_FAILED',
        message: 'refused',
        details: [details],
      });
    }
  });

  it('rethrows unavailability and unknown errors as they are, for Temporal to retry', async () => {
    const unavailable = new UnavailableError('CLICKHOUSE_UNAVAILABLE', 'down');
    expect(await rejection(activitiesFailingWith(unavailable).dueCustomers({} as never))).toBe(unavailable);
    const crash = new TypeError('boom');
    expect(await rejection(activitiesFailingWith(crash).rebill({} as never))).toBe(crash);
  });

  it('retries an invoice not issued yet (a 409 that time resolves)', async () => {
    const notYet = new InvoiceNotYetIssuedError('acme', 'c1', '2026-03');
    expect(await rejection(activitiesFailingWith(notYet).issueInvoices({} as never))).toBe(notYet);
  });
});

describe('billing activities: adapters', () => {
  it('describes periods by their end only', async () => {
    const invoicing = {
      describePeriods: (_tenant: string, refs: unknown[]) =>
        refs.map((_, i) => (i === 0 ? { fromMs: 1, toMs: 99 } : undefined)),
    } as FakeServices;
    const activities = createBillingActivities({ billing: services(invoicing), replayer: {} as DeadLetterReplayer });
    expect(await activities.describePeriods('acme', [{}, {}] as never)).toEqual([
      { endsAtMs: 99 },
      undefined,
    ]);
  });

  it('closeAndIssue issues exactly the periods it claimed, heartbeating the watermark', async () => {
    const issued: unknown[] = [];
    const invoicing = {
      closePeriods: async (
        _req: unknown,
        heartbeat: (state: unknown) => void,
        pollMs: number,
        signal: AbortSignal,
      ) => {
        expect(pollMs).toBe(5);
        expect(signal).toBeInstanceOf(AbortSignal);
        heartbeat({ caughtUp: false });
        return {
          watermark: { caughtUp: true },
          outcomes: [
            { customer: 'c1', status: 'claimed', invoiceId: 'i1', share: { id: 's1' } },
            { customer: 'c2', status: 'taken', invoiceId: 'i2', owner: 'other', state: 'issued' },
            { customer: 'c3', status: 'no_subscription' },
          ],
        };
      },
      issueInvoices: async (req: unknown) => {
        issued.push(req);
        return [{ customer: 'c1', status: 'issued' }];
      },
    } as FakeServices;
    const env = new MockActivityEnvironment();
    const heartbeats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => heartbeats.push(d));
    const activities = createBillingActivities({
      billing: services(invoicing),
      replayer: {} as DeadLetterReplayer,
      watermarkPollMs: 5,
    });
    const result = await env.run(activities.closeAndIssue, { tenant: 'acme', owner: 'wf-1', periods: [] });
    expect(issued).toEqual([
      { tenant: 'acme', owner: 'wf-1', periods: [{ customer: 'c1', share: { id: 's1' } }] },
    ]);
    expect((result as CloseAndIssued).issued).toEqual([{ customer: 'c1', status: 'issued' }]);
    expect(heartbeats).toEqual([{ caughtUp: false }]);
  });

  it('closeAndIssue issues nothing when it claimed nothing', async () => {
    const invoicing = {
      closePeriods: async () => ({
        watermark: {},
        outcomes: [{ customer: 'c3', status: 'no_subscription' }],
      }),
      issueInvoices: async () => {
        throw new Error('must not be called');
      },
    } as FakeServices;
    const activities = createBillingActivities({ billing: services(invoicing), replayer: {} as DeadLetterReplayer });
    const result = await new MockActivityEnvironment().run(activities.closeAndIssue, {
      tenant: 'acme',
      owner: 'wf-1',
      periods: [],
    });
    expect((result as CloseAndIssued).issued).toEqual([]);
  });
});

describe('echo activity', () => {
  it('names the worker that ran it', async () => {
    expect(await createEchoActivities({ workerName: 'w1' }).echo('ping')).toBe('ping (via w1)');
  });
});
