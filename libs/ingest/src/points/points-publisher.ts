import { createHash } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import type { DataPointRow } from '@tally/analytics-engine';
import type { NatsNames } from '@tally/nats';
import { JetStreamAcks, publishParts, type PublishAck } from '../jetstream-publish';
import { splitPointsToFit, type PointsBatchMessage } from './points-message';

/** Port: where accepted data points go. The gateway answers only after `publish` resolved. */
export interface PointsPublisher {
  /**
   * `requestId` names the request (see `pointsRequestId`): the same request sent again gets the same
   * id, and JetStream drops it as a duplicate within its duplicate window.
   */
  publish(message: PointsBatchMessage, requestId: string): Promise<PublishAck>;
}

/**
 * The id of a request: tenant, dataset and a digest of every point, before sampling, so that a client
 * retrying the same request is recognised whatever the sampler keeps the second time. A point with
 * its own id counts as sent (its JSON, so a retry without a timestamp is still the same request); a
 * point without one got a fresh id, so two identical id-less requests stay two requests, as two
 * `writeDataPoint` calls are two data points on Cloudflare.
 */
export function pointsRequestId(
  tenant: string,
  dataset: string,
  rows: readonly DataPointRow[],
  sent: readonly unknown[],
): string {
  const hash = createHash('sha256');
  rows.forEach((row, i) => {
    const input = sent[i] as { id?: unknown } | undefined;
    const fingerprint = typeof input?.id === 'string' ? JSON.stringify(input) : row.id;
    hash.update(row.id).update('\0').update(fingerprint).update('\n');
  });
  return `${tenant}:${dataset}:${hash.digest('base64url')}`;
}

export class JetStreamPointsPublisher implements PointsPublisher {
  private readonly js: JetStreamAcks;

  constructor(
    private readonly nc: NatsConnection,
    private readonly names: NatsNames,
    private readonly timeoutMs = 5_000,
  ) {
    this.js = new JetStreamAcks(nc);
  }

  publish(message: PointsBatchMessage, requestId: string): Promise<PublishAck> {
    const parts = splitPointsToFit(message, this.nc.info?.max_payload ?? 1024 * 1024);
    return publishParts(this.js, this.names.pointsSubject(message.tenant, message.dataset), parts, requestId, this.timeoutMs, 'Data point');
  }
}
