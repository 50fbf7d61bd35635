import { Body, Controller, Headers, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { toHttpError } from '@tally/nest-kit';
import type {
  NatsIngressReply,
  NatsIngressRequest,
  NatsIngressRoute,
} from '../gateway/nats-ingress.strategy';
import { PointsService, type PointsResponse } from './points.service';

/** Pattern of the Nest handler that serves data points over NATS. */
export const NATS_POINTS_PATTERN = 'tally.points';

/** Data points over NATS: `<prefix>.points.<tenant>.<dataset>` (prefixes have no dots). */
export const NATS_POINTS_ROUTE: NatsIngressRoute = {
  pattern: NATS_POINTS_PATTERN,
  parse: (subject) => {
    const tokens = subject.split('.');
    return { tenant: tokens[tokens.length - 2] ?? '', dataset: tokens[tokens.length - 1] ?? '' };
  },
};

/** HTTP and NATS drivers of the data point path: decode the request, hand it to `PointsService`. */
@Controller('v1')
export class PointsController {
  constructor(@Inject(PointsService) private readonly points: PointsService) {}

  @Post('datasets/:name/points')
  @HttpCode(202)
  write(
    @Param('name') dataset: string,
    @Body() body: unknown,
    @Headers('authorization') authorization: string | undefined,
    @Headers('content-type') contentType: string | undefined,
  ): Promise<PointsResponse> {
    return this.points.write({ authorization, contentType, dataset, body, nowMs: Date.now() });
  }

  /** Answers with an envelope: Nest's RPC layer would replace a thrown TallyError by a generic error. */
  @MessagePattern(NATS_POINTS_PATTERN)
  async natsPoints(@Payload() request: NatsIngressRequest): Promise<NatsIngressReply> {
    try {
      const body = await this.points.write({
        authorization: request.authorization,
        contentType: request.contentType,
        dataset: request.dataset ?? '',
        body: request.body,
        tenantFromSubject: request.tenant,
        nowMs: Date.now(),
      });
      return { status: 202, body };
    } catch (error) {
      return toHttpError(error);
    }
  }
}
