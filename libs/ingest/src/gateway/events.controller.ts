import { Body, Controller, Headers, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { IngestService, type IngestResponse } from './ingest.service';
import { toHttpError } from '@tally/nest-kit';
import { NATS_INGEST_PATTERN, type NatsIngressReply, type NatsIngressRequest } from './nats-ingress.strategy';

/** HTTP and NATS drivers: decode the request, hand it to the one ingestion path. */
@Controller('v1')
export class EventsController {
  constructor(@Inject(IngestService) private readonly ingest: IngestService) {}

  @Post('events')
  @HttpCode(202)
  events(
    @Body() body: unknown,
    @Headers('authorization') authorization: string | undefined,
    @Headers('content-type') contentType: string | undefined,
    @Req() request: { id: string },
  ): Promise<IngestResponse> {
    return this.ingest.ingest({ authorization, contentType, body, nowMs: Date.now(), requestId: request.id });
  }

  /** Answers with an envelope: Nest's RPC layer would replace a thrown TallyError by a generic error. */
  @MessagePattern(NATS_INGEST_PATTERN)
  async natsEvents(@Payload() request: NatsIngressRequest): Promise<NatsIngressReply> {
    try {
      const body = await this.ingest.ingest({
        authorization: request.authorization,
        contentType: request.contentType,
        body: request.body,
        tenantFromSubject: request.tenant,
        nowMs: Date.now(),
        requestId: request.requestId,
      });
      return { status: 202, body };
    } catch (error) {
      return toHttpError(error);
    }
  }
}
