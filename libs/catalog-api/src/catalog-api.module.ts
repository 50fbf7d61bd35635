import type { WebhookDestinationPolicy } from '@tally/catalog';
import { Module, type DynamicModule } from '@nestjs/common';
import { ApiKeysService } from './api-keys.service';
import {
  AlertRulesController,
  ApiKeysController,
  CatalogCacheController,
  CustomersController,
  MeterVersionsController,
  MetersController,
  PlansController,
  SubscriptionsController,
  TenantController,
} from './catalog.controllers';
import { CatalogService } from './catalog.service';
import type { ApiKeyPort, CatalogCachePort, CatalogPort } from './ports';
import { CreditLedgerEntries, SubscriptionLifecycleService } from '@tally/catalog';
import {
  CreditEntriesController,
  SubscriptionLifecycleController,
} from './subscription-lifecycle.controller';

export interface CatalogApiDependencies {
  store: CatalogPort;
  keys: ApiKeyPort;
  cache: CatalogCachePort;
  /** Where alert-rule webhooks may point; public addresses only when absent. */
  webhookDestinations?: WebhookDestinationPolicy;
  /** The lifecycle's "now" (tests pin it); the system clock when absent. */
  clock?: () => number;
}

/**
 * The catalog REST API (`/v1/tenant`, `/v1/customers`, `/v1/meters`, `/v1/plans`, `/v1/subscriptions`,
 * `/v1/alert-rules`, `/v1/api-keys`, `/v1/catalog/cache`). Its controllers use nest-kit's `ApiKeyGuard`,
 * so the host app must provide `PRINCIPAL_RESOLVER` globally.
 */
@Module({})
export class CatalogApiModule {
  static register(deps: CatalogApiDependencies): DynamicModule {
    return {
      module: CatalogApiModule,
      controllers: [
        TenantController,
        CustomersController,
        MeterVersionsController,
        MetersController,
        PlansController,
        SubscriptionsController,
        SubscriptionLifecycleController,
        CreditEntriesController,
        AlertRulesController,
        ApiKeysController,
        CatalogCacheController,
      ],
      providers: [
        {
          provide: CatalogService,
          useValue: new CatalogService(deps.store, deps.cache, deps.webhookDestinations),
        },
        { provide: ApiKeysService, useValue: new ApiKeysService(deps.keys) },
        { provide: CreditLedgerEntries, useValue: new CreditLedgerEntries(deps.store) },
        {
          provide: SubscriptionLifecycleService,
          useValue: new SubscriptionLifecycleService(deps.store, deps.clock),
        },
      ],
      exports: [CatalogService],
    };
  }
}
