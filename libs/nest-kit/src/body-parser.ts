import { BadRequestError } from '@tally/errors';
import type { FastifyInstance } from 'fastify';

/**
 * One parser for every content type: JSON types are parsed, anything else passes through raw so
 * the ingest service answers 415 with Tally's error body (and malformed JSON gets 400 MALFORMED_JSON)
 * instead of Fastify's own error shapes.
 */
export function registerBodyParsers(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body: Buffer, done) => {
    const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (!type.endsWith('json')) return done(null, body);
    try {
      done(null, JSON.parse(body.toString('utf8')));
    } catch (error) {
      done(new BadRequestError('MALFORMED_JSON', `Request body is not valid JSON: ${(error as Error).message}`), undefined);
    }
  });
}
