import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Put, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Dataset, DatasetInput, Versioned } from '@tally/catalog';
import { ValidationFailedError } from '@tally/errors';
import { ApiKeyGuard, CurrentPrincipal, Roles, type Principal } from '@tally/nest-kit';

/** The catalog operations on dataset declarations (implemented by `CatalogStore`). */
export interface DatasetStore {
  listDatasets(tenant: string): Promise<Array<Versioned<Dataset>>>;
  putDataset(input: DatasetInput): Promise<Versioned<Dataset>>;
  deleteDataset(tenant: string, name: string): Promise<void>;
}

export const DATASET_STORE = Symbol('DATASET_STORE');

type DatasetView = Omit<Dataset, 'tenant'>;

const view = (d: Dataset): DatasetView => ({
  name: d.name,
  kind: d.kind,
  ...(d.sampling ? { sampling: d.sampling } : {}),
});

/**
 * Declarations of the caller's Analytics Engine datasets: list them, declare one as `billing` (never
 * sampled) or as `analytics` with its own sampling budget, or drop a declaration. A dataset written to
 * without a declaration is created as `analytics` with the gateway's default sampling.
 */
@ApiTags('analytics')
@ApiBearerAuth('bearer')
@Controller('v1/datasets')
@UseGuards(ApiKeyGuard)
@Roles('query')
export class DatasetsController {
  constructor(@Inject(DATASET_STORE) private readonly store: DatasetStore) {}

  @Get()
  @ApiOperation({ summary: "The caller's datasets and how each is sampled" })
  async list(@CurrentPrincipal() principal: Principal): Promise<{ datasets: DatasetView[] }> {
    const datasets = await this.store.listDatasets(principal.tenant);
    return { datasets: datasets.map((d) => view(d.value)) };
  }

  @Put(':name')
  @Roles('admin')
  @ApiOperation({
    summary: 'Declares a dataset: kind analytics (sampled equitably) or billing (never sampled)',
  })
  @ApiBody({
    schema: {
      type: 'object',
      example: { kind: 'analytics', sampling: { budgetPerIndexPerWindow: 1000, windowMs: 1000 } },
    },
  })
  async put(
    @CurrentPrincipal() principal: Principal,
    @Param('name') name: string,
    @Body() body: unknown,
  ): Promise<{ dataset: DatasetView }> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new ValidationFailedError(
        [
          {
            field: '',
            code: 'BODY_INVALID',
            message: 'The body must be a JSON object: { "kind": ..., "sampling"?: ... }',
          },
        ],
        'Invalid dataset',
      );
    }
    const stored = await this.store.putDataset({
      ...(body as object),
      tenant: principal.tenant,
      name,
    } as DatasetInput);
    return { dataset: view(stored.value) };
  }

  @Delete(':name')
  @Roles('admin')
  @HttpCode(204)
  @ApiOperation({ summary: "Drops a dataset's declaration (its stored data points stay)" })
  async remove(@CurrentPrincipal() principal: Principal, @Param('name') name: string): Promise<void> {
    await this.store.deleteDataset(principal.tenant, name);
  }
}
