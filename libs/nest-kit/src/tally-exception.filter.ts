import { ArgumentsHost, Catch, ExceptionFilter, HttpException } from '@nestjs/common';
import { TallyError, type ErrorBody } from '@tally/errors';
import type { Logger } from '@tally/observability';
import type { FastifyReply } from 'fastify';

/** Maps a thrown value to the HTTP status and body clients see; the only place that does. */
export function toHttpError(error: unknown): { status: number; body: ErrorBody; retryAfterSeconds?: number } {
  if (error instanceof TallyError) {
    return { status: error.httpStatus, body: error.toBody(), retryAfterSeconds: error.retryAfterSeconds };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    return { status, body: { error: { code: httpCode(status), message: error.message } } };
  }
  const fastifyError = error as { statusCode?: number; code?: string; message?: string };
  if (typeof fastifyError?.statusCode === 'number' && fastifyError.statusCode < 500) {
    return {
      status: fastifyError.statusCode,
      body: { error: { code: httpCode(fastifyError.statusCode), message: fastifyError.message ?? 'Bad request' } },
    };
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'Internal error' } } };
}

function httpCode(status: number): string {
  switch (status) {
    case 400:
      return 'BAD_REQUEST';
    case 404:
      return 'NOT_FOUND';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 415:
      return 'UNSUPPORTED_MEDIA_TYPE';
    default:
      return status >= 500 ? 'INTERNAL' : 'BAD_REQUEST';
  }
}

@Catch()
export class TallyExceptionFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { status, body, retryAfterSeconds } = toHttpError(error);
    if (status >= 500) {
      const request = host.switchToHttp().getRequest<{ id?: string; method?: string; url?: string } | undefined>();
      this.logger.error({ err: error, requestId: request?.id, method: request?.method, url: request?.url }, 'request failed');
    }
    if (retryAfterSeconds !== undefined) void reply.header('retry-after', String(Math.ceil(retryAfterSeconds)));
    void reply.status(status).send(body);
  }
}
