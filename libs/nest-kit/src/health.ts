import { Controller, Get, Inject, Module, Res, type DynamicModule } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Registry } from 'prom-client';

/** A dependency the service cannot work without; `/health` answers 503 while any check fails. */
export interface HealthCheck {
  name: string;
  check(): Promise<void>;
}

export const HEALTH_CHECKS = Symbol('HEALTH_CHECKS');
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

@Controller()
class HealthController {
  constructor(
    @Inject(HEALTH_CHECKS) private readonly checks: HealthCheck[],
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
  ) {}

  @Get('health')
  async health(@Res() reply: FastifyReply): Promise<void> {
    const results = await Promise.all(
      this.checks.map(async (c) => {
        try {
          await c.check();
          return [c.name, 'ok'] as const;
        } catch (e) {
          return [c.name, `failing: ${(e as Error).message}`] as const;
        }
      }),
    );
    const healthy = results.every(([, r]) => r === 'ok');
    await reply.status(healthy ? 200 : 503).send({ status: healthy ? 'ok' : 'degraded', checks: Object.fromEntries(results) });
  }

  @Get('metrics')
  async metrics(@Res() reply: FastifyReply): Promise<void> {
    await reply.header('content-type', this.registry.contentType).send(await this.registry.metrics());
  }
}

@Module({})
export class HealthModule {
  /** `checks` is resolved from the DI token `HEALTH_CHECKS` exported by the app's own module. */
  static register(registry: Registry, checks: () => HealthCheck[] = () => []): DynamicModule {
    return {
      module: HealthModule,
      controllers: [HealthController],
      providers: [
        { provide: METRICS_REGISTRY, useValue: registry },
        { provide: HEALTH_CHECKS, useFactory: checks },
      ],
    };
  }
}
