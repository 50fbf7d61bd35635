import { Controller, Get, HttpException, Module, Post, Body, Req, UseGuards } from '@nestjs/common';
import { BadRequestError, NotFoundError, RateLimitedError, ValidationFailedError } from '@tally/errors';
import pino from 'pino';
import { Registry } from 'prom-client';
import { ApiKeyGuard, CurrentPrincipal, PRINCIPAL_RESOLVER, Roles, TENANT_REQUEST_RATE, TenantRequestRate, type Principal } from './auth';
import { internalServerOf, startHttpApp, type NestFastifyApplication } from './bootstrap';
import { HealthModule, type HealthCheck } from './health';
import { toHttpError } from './tally-exception.filter';

const KEYS: Record<string, Principal> = {
  'k-query': { tenant: 'acme', role: 'query' },
  'k-ingest': { tenant: 'acme', role: 'ingest' },
  'k-admin': { tenant: 'globex', role: 'admin' },
};

@Controller('t')
@UseGuards(ApiKeyGuard)
@Roles('query')
class ProbeController {
  @Get('ip')
  ip(@Req() req: { ip: string }) {
    return { ip: req.ip };
  }

  @Get('me')
  me(@CurrentPrincipal() principal: Principal): Principal {
    return principal;
  }

  @Post('echo')
  @Roles('ingest')
  echo(@Body() body: unknown): unknown {
    return { body: Buffer.isBuffer(body) ? `raw:${body.toString('utf8')}` : body };
  }

  @Get('missing')
  missing(): never {
    throw new NotFoundError('Meter', 'plays');
  }

  @Get('limited')
  limited(): never {
    throw new RateLimitedError(1.2);
  }

  @Get('crash')
  crash(): never {
    throw new Error('secret internals');
  }
}

let dependencyUp = true;
const checks: HealthCheck[] = [
  { name: 'always', check: async () => undefined },
  {
    name: 'dependency',
    check: async () => {
      if (!dependencyUp) throw new Error('connection refused');
    },
  },
];

const registry = new Registry();
registry.setDefaultLabels({ service: 'probe' });

@Module({
  imports: [HealthModule.register(registry, () => checks)],
  controllers: [ProbeController],
  providers: [{ provide: PRINCIPAL_RESOLVER, useValue: { resolve: (key: string) => KEYS[key] } }],
})
class ProbeModule {}

@Module({
  controllers: [ProbeController],
  providers: [
    { provide: PRINCIPAL_RESOLVER, useValue: { resolve: (key: string) => KEYS[key] } },
    { provide: TENANT_REQUEST_RATE, useValue: new TenantRequestRate(3) },
  ],
})
class RateLimitedProbeModule {}

describe('nest-kit: one HTTP stack for every service', () => {
  let app: NestFastifyApplication;
  let url: string;
  let internalUrl: string;
  const logged: Array<{ level: number; msg: string; err?: { message: string } }> = [];

  beforeAll(async () => {
    const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
    app = await startHttpApp(ProbeModule, {
      port: 0,
      logger,
      bodyLimitBytes: 1024,
      internal: { host: '127.0.0.1', port: 0 },
    });
    url = await app.getUrl();
    internalUrl = internalServerOf(app)?.url ?? 'http://no-internal-listener';
  });

  afterAll(async () => {
    await app?.close();
  });

  const call = async (path: string, key?: string, init: RequestInit = {}) => {
    const response = await fetch(`${url}${path}`, {
      ...init,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(init.headers ?? {}) },
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  };

  describe('ApiKeyGuard', () => {
    it('attaches the principal of a known key with an allowed role', async () => {
      expect(await call('/t/me', 'k-query')).toMatchObject({
        status: 200,
        body: { tenant: 'acme', role: 'query' },
      });
      // The scheme is case-insensitive; admin passes every role check.
      expect((await call('/t/me', undefined, { headers: { authorization: 'bearer k-admin' } })).body).toEqual(
        {
          tenant: 'globex',
          role: 'admin',
        },
      );
    });

    it('answers 401 without a key or with an unknown one, 403 for a role the handler does not allow', async () => {
      for (const key of [undefined, 'nope']) {
        expect(await call('/t/me', key)).toMatchObject({
          status: 401,
          body: { error: { code: 'UNAUTHORIZED' } },
        });
      }
      expect(await call('/t/me', undefined, { headers: { authorization: 'Basic k-query' } })).toMatchObject({
        status: 401,
      });
      expect(await call('/t/me', 'k-ingest')).toMatchObject({
        status: 403,
        body: { error: { code: 'FORBIDDEN', message: "A 'ingest' key may not do this" } },
      });
    });

    it('lets a handler override the controller roles', async () => {
      const post = (key: string) =>
        call('/t/echo', key, {
          method: 'POST',
          body: '{"a":1}',
          headers: { 'content-type': 'application/json' },
        });
      expect(await post('k-ingest')).toMatchObject({ status: 201, body: { body: { a: 1 } } });
      expect((await post('k-query')).status).toBe(403);
    });
  });

  describe('errors on the wire', () => {
    it('maps typed errors to their status and stable code, with Retry-After when they carry one', async () => {
      expect(await call('/t/missing', 'k-query')).toMatchObject({
        status: 404,
        body: { error: { code: 'NOT_FOUND', message: "Meter 'plays' does not exist" } },
      });
      const limited = await call('/t/limited', 'k-query');
      expect([limited.status, limited.body.error.code, limited.headers.get('retry-after')]).toEqual([
        429,
        'RATE_LIMITED',
        '2',
      ]);
    });

    it('hides an unexpected error behind 500 INTERNAL and logs it', async () => {
      const crashed = await call('/t/crash', 'k-query');
      expect(crashed).toMatchObject({
        status: 500,
        body: { error: { code: 'INTERNAL', message: 'Internal error' } },
      });
      expect(JSON.stringify(crashed.body)).not.toContain('secret');
      expect(logged).toContainEqual(
        expect.objectContaining({
          level: 50,
          msg: 'request failed',
          err: expect.objectContaining({ message: 'secret internals' }),
        }),
      );
    });

    it('parses JSON bodies itself: malformed JSON is 400 MALFORMED_JSON, other types pass raw, too large is 413', async () => {
      const post = (body: string, type: string) =>
        call('/t/echo', 'k-ingest', { method: 'POST', body, headers: { 'content-type': type } });
      expect(await post('{"a":', 'application/json')).toMatchObject({
        status: 400,
        body: { error: { code: 'MALFORMED_JSON' } },
      });
      expect(await post('a,b', 'text/csv')).toMatchObject({ status: 201, body: { body: 'raw:a,b' } });
      expect(await post(JSON.stringify({ pad: 'x'.repeat(2_000) }), 'application/json')).toMatchObject({
        status: 413,
        body: { error: { code: 'PAYLOAD_TOO_LARGE' } },
      });
      expect((await call('/nowhere', 'k-query')).body).toEqual({
        error: { code: 'NOT_FOUND', message: expect.any(String) },
      });
    });
  });

  describe('toHttpError', () => {
    it('keeps the details of a validation error and maps Nest and Fastify errors without leaking 5xx causes', () => {
      const details = [{ index: 2, field: 'timestamp', code: 'TIMESTAMP_IN_FUTURE', message: 'too late' }];
      expect(toHttpError(new ValidationFailedError(details))).toEqual({
        status: 422,
        body: { error: { code: 'VALIDATION_FAILED', message: expect.any(String), details } },
        retryAfterSeconds: undefined,
      });
      expect(toHttpError(new BadRequestError('INVALID_YAML', 'bad')).body.error).toEqual({
        code: 'INVALID_YAML',
        message: 'bad',
      });
      expect(toHttpError(new HttpException('gone', 404))).toEqual({
        status: 404,
        body: { error: { code: 'NOT_FOUND', message: 'gone' } },
      });
      expect(toHttpError({ statusCode: 415, message: 'no' }).body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      expect(toHttpError({ statusCode: 502, message: 'upstream detail' })).toEqual({
        status: 500,
        body: { error: { code: 'INTERNAL', message: 'Internal error' } },
      });
      expect(toHttpError(undefined).status).toBe(500);
    });
  });

  it('limits the requests of each tenant when the app provides a rate (429 with Retry-After), not other tenants', async () => {
    const limited = await startHttpApp(RateLimitedProbeModule, { port: 0, logger: pino({ level: 'silent' }) });
    try {
      const base = await limited.getUrl();
      const get = (key: string) => fetch(`${base}/t/me`, { headers: { authorization: `Bearer ${key}` } });
      // 10 at once: the bucket holds 3 (it refills 3 per second, far slower than these arrive).
      const answers = await Promise.all(Array.from({ length: 10 }, () => get('k-query')));
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(4);
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(3);
      const refused = answers.find((a) => a.status === 429);
      expect(refused?.headers.get('retry-after')).toBe('1');
      expect((await get('k-admin')).status).toBe(200); // globex's own budget
      expect((await get('nope')).status).toBe(401); // authentication first: unknown keys spend nothing
    } finally {
      await limited.close();
    }
  });

  it('ignores X-Forwarded-For unless trustProxy is configured (off by default)', async () => {
    const spoofed = { headers: { 'x-forwarded-for': '203.0.113.7' } };
    expect((await call('/t/ip', 'k-query', spoofed)).body.ip).toBe('127.0.0.1');
    const logger = pino({ level: 'silent' });
    const proxied = await startHttpApp(ProbeModule, { port: 0, logger, trustProxy: true });
    try {
      const r = await fetch(`${await proxied.getUrl()}/t/ip`, { headers: { ...spoofed.headers, authorization: 'Bearer k-query' } });
      expect(((await r.json()) as { ip: string }).ip).toBe('203.0.113.7');
    } finally {
      await proxied.close();
    }
  });

  describe('HealthModule and the internal listener', () => {
    const get = async (base: string, path: string) => {
      const response = await fetch(`${base}${path}`);
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    };

    it('answers the public /health with a plain liveness answer that names no dependency, even while one fails', async () => {
      dependencyUp = false;
      try {
        expect(await get(url, '/health')).toEqual({ status: 200, body: { status: 'ok' } });
      } finally {
        dependencyUp = true;
      }
    });

    it('answers 404 to /metrics on the public port', async () => {
      expect(await get(url, '/metrics')).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    });

    it('answers the internal /health with 200 while every check passes and 503 naming the failing one', async () => {
      dependencyUp = true;
      expect(await get(internalUrl, '/health')).toEqual({
        status: 200,
        body: { status: 'ok', checks: { always: 'ok', dependency: 'ok' } },
      });
      dependencyUp = false;
      expect(await get(internalUrl, '/health')).toEqual({
        status: 503,
        body: { status: 'degraded', checks: { always: 'ok', dependency: 'failing: connection refused' } },
      });
      dependencyUp = true;
    });

    it('serves the registry in Prometheus text format on the internal port only, and 404 to anything else there', async () => {
      const response = await fetch(`${internalUrl}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(registry.contentType);
      new (await import('prom-client')).Counter({
        name: 'probe_total',
        help: 'probe',
        registers: [registry],
      }).inc(3);
      expect(await (await fetch(`${internalUrl}/metrics`)).text()).toContain('probe_total{service="probe"} 3');
      // The API is not on the internal listener either.
      expect((await get(internalUrl, '/t/me')).status).toBe(404);
    });

    it('logs the bound internal port and closes the internal listener with the app', async () => {
      const lines: Array<{ msg: string; internalPort?: number }> = [];
      const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
      const other = await startHttpApp(ProbeModule, { port: 0, logger, internal: { host: '127.0.0.1', port: 0 } });
      const internal = internalServerOf(other);
      if (!internal) throw new Error('no internal listener');
      expect(internal.port).toBeGreaterThan(0);
      expect(lines.find((l) => l.msg === 'internal listener (metrics, health)')?.internalPort).toBe(internal.port);
      expect((await fetch(`${internal.url}/health`)).status).toBe(200);
      await other.close();
      await expect(fetch(`${internal.url}/health`)).rejects.toThrow();
    });
  });
});
