import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '@tally/observability';
import type { StreamDrift } from './streams';

/**
 * Tells the operator which settings of existing streams differ from Tally's (`ensureStreams` leaves
 * them alone): one warning each, and `tally_stream_config_drift{stream,setting} 1` on /metrics.
 */
export function reportStreamDrift(drift: readonly StreamDrift[], logger: Logger, registry?: Registry): void {
  const gauge = registry
    ? new Gauge({
        name: 'tally_stream_config_drift',
        help: 'A setting of an existing stream that differs from what Tally would create (left as it is)',
        labelNames: ['stream', 'setting'],
        registers: [registry],
      })
    : undefined;
  for (const d of drift) {
    logger.warn(
      { stream: d.stream, setting: d.setting, expected: d.expected, actual: d.actual },
      'stream setting differs from Tally\'s; left as the operator set it',
    );
    gauge?.set({ stream: d.stream, setting: d.setting }, 1);
  }
}
