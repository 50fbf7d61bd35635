import { Controller, Get, Module, type DynamicModule } from '@nestjs/common';
import type { HealthCheck } from '@tally/observability';
import type { Registry } from 'prom-client';

export type { HealthCheck } from '@tally/observability';

export const HEALTH_CHECKS = Symbol('HEALTH_CHECKS');
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

/**
 * The public port's plain liveness answer: the process is up and serving. The dependencies, their
 * errors and `/metrics` are on the internal listener only (`startHttpApp`'s `internal`,
 * docs/operations.md#internal-port); the public port answers 404 to `/metrics`.
 */
@Controller()
class LivenessController {
  @Get('health')
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }
}

@Module({})
export class HealthModule {
  /**
   * `checks` and `registry` are what the internal listener serves (`startHttpApp` reads them from
   * here through the DI tokens `HEALTH_CHECKS` and `METRICS_REGISTRY`).
   */
  static register(registry: Registry, checks: () => HealthCheck[] = () => []): DynamicModule {
    return {
      module: HealthModule,
      controllers: [LivenessController],
      providers: [
        { provide: METRICS_REGISTRY, useValue: registry },
        { provide: HEALTH_CHECKS, useFactory: checks },
      ],
    };
  }
}
