import { Module, type DynamicModule } from '@nestjs/common';
import { HealthModule } from '@tally/nest-kit';
import type { Registry } from 'prom-client';
import type { QueryConfig } from './query.config';

@Module({})
export class AppModule {
  static register(config: QueryConfig, registry: Registry): DynamicModule {
    return {
      module: AppModule,
      imports: [HealthModule.register(registry)],
      providers: [{ provide: 'CONFIG', useValue: config }],
    };
  }
}
