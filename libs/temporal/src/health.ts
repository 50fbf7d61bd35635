import type { Client } from '@temporalio/client';

/**
 * Health check for the internal `/health` (structurally the `HealthCheck` of @tally/observability):
 * the Temporal frontend answers `GetSystemInfo` within `timeoutMs`, and, in a worker, the worker is
 * still polling (`RUNNING`; it is `STOPPING`/`DRAINING` on shutdown and `FAILED` after a fatal error).
 */
export class TemporalHealth {
  readonly name = 'temporal';

  constructor(
    private readonly client: Client,
    private readonly workerState?: () => string,
    private readonly timeoutMs = 2_000,
  ) {}

  async check(): Promise<void> {
    const state = this.workerState?.();
    if (state !== undefined && state !== 'RUNNING') throw new Error(`worker ${state.toLowerCase()}`);
    await this.client.connection.withDeadline(Date.now() + this.timeoutMs, () =>
      this.client.workflowService.getSystemInfo({}),
    );
  }
}
